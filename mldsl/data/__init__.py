"""mldsl.data"""
