// Precompiled header for translation units that include torch (see cmake/SmoesModule.cmake).
#pragma once
#include <torch/torch.h>
