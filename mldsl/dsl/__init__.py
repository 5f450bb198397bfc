"""mldsl.dsl"""
