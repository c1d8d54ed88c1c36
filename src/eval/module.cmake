smoes_module(eval DEPS smoes_core)
