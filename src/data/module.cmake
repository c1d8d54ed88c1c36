smoes_module(data DEPS smoes_core PkgConfig::STB ${CMAKE_DL_LIBS} TEST_DEPS smoes_world)

# SentencePiece is reached only through libsmoes_spm.so, opened at run time
# (see src/data/spm_shim/spm_api.h for why it must not be linked directly).
add_library(smoes_spm MODULE ${PROJECT_SOURCE_DIR}/src/data/spm_shim/spm_shim.cpp)
target_include_directories(smoes_spm PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(smoes_spm PRIVATE PkgConfig::SENTENCEPIECE)
set_target_properties(smoes_spm PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
target_compile_definitions(smoes_data PRIVATE SMOES_SPM_PATH="$<TARGET_FILE:smoes_spm>")
add_dependencies(smoes_data smoes_spm)
# make sanitize: dlmopen gives the shim its own link-map namespace, where an
# instrumented shim would start a second ASan runtime, which ASan refuses
# ("ASan runtime does not come first"). The shim stays uninstrumented.
if(SMOES_SANITIZE)
  target_compile_options(smoes_spm PRIVATE -fno-sanitize=all)
  target_link_options(smoes_spm PRIVATE -fno-sanitize=all)
endif()
