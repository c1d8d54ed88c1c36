smoes_module(moe DEPS smoes_core)
