#include "study/report.h"

#include <openssl/evp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/files.h"
#include "core/git_revision.h"
#include "core/runtime.h"
#include "study/stats.h"

namespace smoes::study {
namespace fs = std::filesystem;
namespace {

const char* kVerdictRule =
    "Every number is a mean over seeds with a percentile-bootstrap 95% CI (2,000 resamples) in brackets; a "
    "difference between methods is paired by seed and carries its own CI. A claim is supported only if the CI of "
    "its quantity excludes 0 on the claimed side, contradicted if it excludes 0 on the other side, and "
    "underpowered otherwise (the CI holds 0, or fewer than two seeds have results).";

const char* kLimitations =
    "* The data are the embedded world: procedurally drawn scenes of a few object classes with templated text, in "
    "the published file formats. Its VQA is largely answerable from the question alone, and its captions and "
    "referring expressions use a small vocabulary, so absolute scores do not transfer to real datasets.\n"
    "* The models are small (a 4-layer decoder of width 192, 8 experts unless stated, a 2-layer ViT on 64-pixel "
    "images) and trained for minutes on 2 CPU cores; effects that need scale may not appear, and effects that "
    "appear may not survive scale.\n"
    "* Three seeds give wide bootstrap intervals; \"underpowered\" means exactly that, not \"no effect\".\n"
    "* The OOD tasks of RQ3 and RQ5 come from the same procedural world with shifted question, answer and "
    "image distributions, a milder shift than real VCR, SNLI-VE, VQA-CP or A-OKVQA.\n";

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

std::string md_table(const Table& t) {
  std::string s = "**" + t.title + "**\n\n|";
  for (const auto& c : t.columns) s += " " + c + " |";
  s += "\n|";
  for (size_t i = 0; i < t.columns.size(); ++i) s += "---|";
  s += "\n";
  for (const auto& row : t.rows) {
    s += "|";
    for (const auto& c : row) s += " " + c + " |";
    s += "\n";
  }
  return s + "\n";
}

std::string html_table(const Table& t) {
  std::string s = "<table>\n<caption>" + html_escape(t.title) + "</caption>\n<tr>";
  for (const auto& c : t.columns) s += "<th>" + html_escape(c) + "</th>";
  s += "</tr>\n";
  for (const auto& row : t.rows) {
    s += "<tr>";
    for (const auto& c : row) s += "<td>" + html_escape(c) + "</td>";
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

std::string machine() {
  struct utsname u {};
  uname(&u);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  return std::string(u.sysname) + " " + u.release + " " + u.machine + ", " + std::to_string(default_thread_count()) +
         " threads, host " + host;
}

double train_seconds(const Grid& grid) {
  double s = 0;
  for (const auto& r : grid.runs) {
    auto path = fs::path(r.dir) / "study_run.json";
    if (!fs::exists(path)) continue;
    auto j = nlohmann::json::parse(read_file(path.string()), nullptr, false);
    if (j.is_object()) s += j.value("train_seconds", 0.0);
  }
  return s;
}

struct Page {
  std::string md, html;
  void heading(int level, const std::string& text) {
    md += std::string(level, '#') + " " + text + "\n\n";
    html += "<h" + std::to_string(level) + ">" + html_escape(text) + "</h" + std::to_string(level) + ">\n";
  }
  void para(const std::string& text) {
    md += text + "\n\n";
    html += "<p>" + html_escape(text) + "</p>\n";
  }
  void list(const std::vector<std::string>& items) {
    html += "<ul>\n";
    for (const auto& i : items) {
      md += "* " + i + "\n";
      html += "<li>" + html_escape(i) + "</li>\n";
    }
    md += "\n";
    html += "</ul>\n";
  }
  void table(const Table& t) {
    md += md_table(t);
    html += html_table(t);
  }
  void image(const std::string& dir, const Figure& f) {
    md += "![" + f.caption + "](" + f.file + ")\n\n";
    html += "<figure><img alt=\"" + html_escape(f.caption) + "\" src=\"" + png_data_uri(dir + "/" + f.file) +
            "\"><figcaption>" + html_escape(f.caption) + "</figcaption></figure>\n";
  }
};

}  // namespace

std::string png_data_uri(const std::string& path) {
  auto bytes = read_file(path);
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), int(bytes.size()));
  out.resize(n);
  return "data:image/png;base64," + out;
}

std::vector<Answer> write_report(const Grid& grid, const StudySpec& spec, const ReportInputs& in) {
  Results results(grid, spec);
  auto answers = answer_all(results);
  int finished_runs = 0;
  for (const auto& r : grid.runs) finished_runs += finished(r, spec);

  Page p;
  p.heading(1, "smoes study: " + in.preset);
  if (!spec.evidence)
    p.para("This is a pipeline check, not evidence: the " + in.preset +
           " preset trains every model for too few "
           "steps, on too few seeds, to answer the questions. Its verdicts show that the machinery works. Run "
           "smoes study --preset full for the real answers (docs/STUDY.md).");
  if (!spec.description.empty()) p.para(spec.description);
  p.para(std::to_string(finished_runs) + " of " + std::to_string(grid.runs.size()) + " runs finished; seeds: " + [&] {
    std::string s;
    for (int x : spec.seeds) s += (s.empty() ? "" : ", ") + std::to_string(x);
    return s;
  }() + ".");
  p.heading(2, "Verdicts");
  std::vector<std::string> headline;
  for (const auto& a : answers)
    headline.push_back(a.title + ": " + a.verdict + (a.verdicts.empty() ? "" : " (" + a.verdicts.front() + ")"));
  p.list(headline);
  p.para(kVerdictRule);
  nlohmann::json answers_json = nlohmann::json::array();
  for (const auto& a : answers) {
    p.heading(2, a.title);
    p.para(a.question);
    p.list(a.verdicts);
    for (const auto& t : a.tables) p.table(t);
    for (const auto& f : a.figures) p.image(grid.out, f);
    if (!a.notes.empty()) p.list(a.notes);
    answers_json.push_back(a.to_json());
  }
  p.heading(2, "Limitations");
  p.md += std::string(kLimitations) + "\n";
  p.html += "<ul>";
  for (std::string rest = kLimitations; !rest.empty();) {
    auto end = rest.find('\n');
    p.html += "<li>" + html_escape(rest.substr(2, end - 2)) + "</li>\n";
    rest = end == std::string::npos ? "" : rest.substr(end + 1);
  }
  p.html += "</ul>\n";

  p.heading(2, "Runs, machine and revision");
  Table runs{"Runs (folder = runs/<key>; each holds its resolved config as config.json)",
             {"run", "key", "config", "starts from", "finished"},
             {}};
  for (const auto& r : grid.runs) {
    std::string id = r.id;
    for (const auto& [m, s] : r.aliases) id += ", " + m + (s ? "-s" + std::to_string(s) : "");
    runs.rows.push_back(
        {id, r.key, spec.model(r.model).config, r.parent.empty() ? "-" : r.parent, finished(r, spec) ? "yes" : "no"});
  }
  p.table(runs);
  p.list({"spec: " + spec.source, "git revision: " + std::string(git_revision()), "machine: " + machine(),
          "training wall time of the finished runs: " + format(train_seconds(grid) / 60.0) + " min",
          "this invocation's wall time: " + format(in.wall_seconds / 60.0) + " min"});

  const std::string style =
      "body{font-family:sans-serif;max-width:70em;margin:2em auto;line-height:1.4}table{border-collapse:collapse;"
      "margin:1em 0}td,th{border:1px solid #bbb;padding:.25em .6em;text-align:left}caption{font-weight:bold;"
      "text-align:left;padding:.3em 0}img{max-width:100%}figure{margin:1em 0}";
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>smoes study: " + html_escape(in.preset) +
      "</title><style>" + style + "</style></head><body>\n" + p.html + "</body></html>\n";
  nlohmann::json out{{"preset", in.preset},
                     {"spec", spec.source},
                     {"git_revision", git_revision()},
                     {"seeds", spec.seeds},
                     {"runs", grid.runs.size()},
                     {"finished_runs", finished_runs},
                     {"answers", answers_json},
                     {"measurements", results.measurements}};
  write_file_atomic(grid.out + "/results.json", out.dump(1) + "\n");
  write_file_atomic(grid.out + "/report.md", p.md);
  write_file_atomic(grid.out + "/report.html", html);
  return answers;
}

}  // namespace smoes::study
