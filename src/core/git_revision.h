// The source revision this binary was built from ("<sha>" or "<sha>-dirty"),
// generated at build time (cmake/GitRevision.cmake); stored with every
// checkpoint and result.
#pragma once

namespace smoes {

const char* git_revision();

}  // namespace smoes
