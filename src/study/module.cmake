# `smoes study` (issue 27): the five research questions of METHOD.md section 5
# as a grid of runs, executed through the smoes CLI, summarised with bootstrap
# CIs and written up as a report. No torch: it only schedules and counts.
smoes_module(study DEPS smoes_core OpenSSL::Crypto)
# The end-to-end test runs the smoes executable on a tiny study.
target_compile_definitions(test_study PRIVATE SMOES_EXE="$<TARGET_FILE:smoes_cli>")
target_link_libraries(test_study PRIVATE PkgConfig::STB OpenSSL::Crypto)
add_dependencies(test_study smoes_cli)
