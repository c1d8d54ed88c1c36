// Empty translation unit: lets CMake build the shared torch precompiled header once.
