smoes_module(tasks DEPS smoes_data smoes_world smoes_model)
