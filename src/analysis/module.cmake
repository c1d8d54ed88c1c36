smoes_module(analysis DEPS smoes_eval smoes_tasks smoes_model TEST_DEPS smoes_train)
