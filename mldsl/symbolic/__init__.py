"""mldsl.symbolic"""
