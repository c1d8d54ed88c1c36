smoes_module(world DEPS smoes_core smoes_data PkgConfig::STB pugixml::pugixml)
