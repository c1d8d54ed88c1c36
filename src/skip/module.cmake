# Inference-time expert skipping and pruning (METHOD.md section 4): NAEE,
# MoDES and their baselines, calibrated on a trained run.
smoes_module(skip DEPS smoes_eval smoes_tasks smoes_model TEST_DEPS smoes_train)
