"""mldsl.hyper"""
