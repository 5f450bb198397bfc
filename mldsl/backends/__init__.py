"""mldsl.backends"""
