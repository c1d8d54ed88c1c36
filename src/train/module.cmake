smoes_module(train DEPS smoes_model smoes_core)
