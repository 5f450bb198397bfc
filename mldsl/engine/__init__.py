"""mldsl.engine"""
