smoes_module(world DEPS smoes_core PkgConfig::STB)
