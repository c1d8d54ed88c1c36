// Plots drawn by gnuplot: a subprocess fed a generated script, writing PNG
// and SVG. Used by the routing report and the skip sweep.
#pragma once
#include <string>

namespace smoes {

// Whether gnuplot is on PATH (scripts/bootstrap.sh installs it).
bool have_gnuplot();

// Runs `body` (gnuplot commands after `set output`, with `data` datablocks
// before) once per terminal into <path_no_ext>.png and .svg; each file
// appears only when gnuplot succeeded. Throws naming the file and gnuplot's
// message otherwise.
void render_gnuplot(const std::string& path_no_ext, const std::string& data, const std::string& body);

}  // namespace smoes
