# generated/git_revision.cpp holds `git describe` of the source tree; it is
# rewritten only when the revision changes, so it costs nothing most builds.
set(SMOES_GIT_REVISION_CPP ${PROJECT_BINARY_DIR}/generated/git_revision.cpp)
add_custom_target(smoes_git_revision_update
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${SMOES_GIT_REVISION_CPP}
          -P ${PROJECT_SOURCE_DIR}/cmake/WriteGitRevision.cmake
  BYPRODUCTS ${SMOES_GIT_REVISION_CPP})
add_library(smoes_git_revision STATIC ${SMOES_GIT_REVISION_CPP})
add_dependencies(smoes_git_revision smoes_git_revision_update)
execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DOUTPUT=${SMOES_GIT_REVISION_CPP}
                -P ${PROJECT_SOURCE_DIR}/cmake/WriteGitRevision.cmake)
