smoes_module(core DEPS smoes_git_revision OpenSSL::Crypto)
