smoes_module(train DEPS smoes_model smoes_tasks smoes_eval smoes_dist smoes_core TEST_DEPS smoes_world)
# The crash-safety test kills and limits the smoes executable itself.
target_compile_definitions(test_train PRIVATE SMOES_EXE="$<TARGET_FILE:smoes_cli>")
add_dependencies(test_train smoes_cli)
