#include "core/plot.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace smoes {

namespace fs = std::filesystem;

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

void render_gnuplot(const std::string& path_no_ext, const std::string& data, const std::string& body) {
  if (path_no_ext.find('\'') != std::string::npos) throw Error(path_no_ext + ": plot paths may not contain a quote");
  const std::string png = path_no_ext + ".png", svg = path_no_ext + ".svg";
  std::ostringstream script;
  script << data << "set terminal pngcairo size 900,540 font 'sans,10'\nset output '" << png << ".partial'\n"
         << body << "set terminal svg size 900,540 font 'sans,10' background '#ffffff'\nset output '" << svg
         << ".partial'\n" << body << "unset output\n";
  const auto stem = fs::temp_directory_path() / ("smoes_plot_" + std::to_string(getpid()));
  const std::string script_path = stem.string() + ".gp", log_path = stem.string() + ".log";
  write_file_atomic(script_path, script.str());
  const int rc = std::system(("gnuplot '" + script_path + "' 2>'" + log_path + "'").c_str());
  std::error_code ignored;
  std::string log = fs::exists(log_path) ? read_file(log_path) : "";
  fs::remove(script_path, ignored);
  fs::remove(log_path, ignored);
  if (rc != 0) throw Error(png + ": gnuplot failed: " + log);
  fs::rename(png + ".partial", png);
  fs::rename(svg + ".partial", svg);
}

}  // namespace smoes
