# The metrics need only core; prediction and scoring run the model on tasks.
smoes_module(eval DEPS smoes_tasks smoes_model smoes_core)
