smoes_module(train DEPS smoes_model smoes_tasks smoes_eval smoes_dist smoes_core TEST_DEPS smoes_world)
