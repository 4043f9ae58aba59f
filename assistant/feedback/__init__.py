"""Feedback on answers and the questions the documents do not answer: the log (``store``), the report of gaps
(``gaps``) and gold-set candidates drawn from both (``gold``). The public functions are in ``assistant.api``."""
