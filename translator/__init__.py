"""Offline machine translation (argostranslate) behind a small HTTP service.

argostranslate cannot share a Python environment with Rasa (it needs newer
protobuf/pydantic), so it runs as its own process (`translator.server`, in the
service environment) and Rasa's components and actions reach it through
`translator.client`, which needs nothing but the standard library.
"""
