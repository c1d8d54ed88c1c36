smoes_module(model DEPS smoes_core)
