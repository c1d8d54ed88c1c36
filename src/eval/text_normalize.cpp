// A re-implementation of the rules of Stanford CoreNLP 3.4.1's PTBLexer (a
// JFlex scanner) that matter for caption text, with the scanner's semantics:
// at each position every rule is tried, the longest match wins (trailing
// context counts towards the length, as in JFlex) and ties go to the rule that
// comes first in PTBLexer.flex. Rules are listed below in that order.
// The default 3.4.1 options apply (ptb3Escaping: brackets -> -LRB- etc.,
// latex quotes, "..." ellipsis, "--" dashes, no americanize, no / escaping),
// and -lowerCase lowercases each token after it is built, so "(" becomes
// "-lrb-", which coco-caption's punctuation list (upper-case "-LRB-") keeps.
#include "eval/text_normalize.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>

namespace smoes::eval {
namespace {

using U32 = std::u32string;
constexpr char32_t kEnd = 0x110000;  // "past the end of input" marker for trailing-context tests

// ---------------------------------------------------------------- UTF-8 ---

// Invalid bytes decode to U+FFFD, which no rule matches, so it is dropped (as
// the Java tokenizer drops untokenizable characters).
U32 decode_utf8(std::string_view in) {
  U32 out;
  size_t i = 0;
  while (i < in.size()) {
    auto b = static_cast<unsigned char>(in[i]);
    int extra = b < 0x80 ? 0 : (b >> 5) == 6 ? 1 : (b >> 4) == 14 ? 2 : (b >> 3) == 30 ? 3 : -1;
    if (extra < 0 || i + extra >= in.size()) {  // bad lead byte or truncated sequence
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t c = extra == 0 ? b : (b & (0x3F >> extra));
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      auto cb = static_cast<unsigned char>(in[i + k]);
      if ((cb >> 6) != 2) ok = false;
      c = (c << 6) | (cb & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(c);
    i += extra + 1;
  }
  return out;
}

std::string encode_utf8(const U32& in) {
  std::string out;
  for (char32_t c : in) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// ------------------------------------------------------ character classes ---

bool in(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }
bool is_ascii_alpha(char32_t c) { return in(c, 'a', 'z') || in(c, 'A', 'Z'); }
bool is_digit(char32_t c) { return in(c, '0', '9'); }
bool is_ascii_alnum(char32_t c) { return is_ascii_alpha(c) || is_digit(c); }
bool is_upper(char32_t c) { return in(c, 'A', 'Z') || (in(c, 0xC0, 0xDE) && c != 0xD7); }

// The flex LETTER macro: Java's [:letter:] (approximated by script blocks)
// plus the soft hyphen; symbols, quotes, dashes and spaces inside those
// blocks are carved out because other rules own them.
bool is_letter(char32_t c) {
  if (c < 0x80) return is_ascii_alpha(c);
  if (c == 0xAA || c == 0xAD || c == 0xB5 || c == 0xBA) return true;  // AD: soft hyphen is in LETTER
  if (in(c, 0xC0, 0x24F)) return c != 0xD7 && c != 0xF7;
  if (in(c, 0x250, 0x2FF) || in(c, 0x370, 0x52F)) return c != 0x37E && c != 0x387;
  if (in(c, 0x531, 0x587) || in(c, 0x5D0, 0x5F2) || in(c, 0x620, 0x64A)) return true;
  if (in(c, 0x900, 0xDFF) || in(c, 0xE01, 0xE3A) || in(c, 0xE40, 0xE4E)) return true;
  if (in(c, 0x1000, 0x1FFF)) return true;
  if (c == 0x3005 || c == 0x3006 || in(c, 0x3031, 0x3035) || c == 0x303B || c == 0x303C) return true;
  if (in(c, 0x2C00, 0x2DFF) || in(c, 0x3041, 0x30FA) || in(c, 0x30FC, 0x9FFF) || in(c, 0xAC00, 0xD7AF)) return true;
  if (in(c, 0xF900, 0xFAFF) || in(c, 0xFF21, 0xFF3A) || in(c, 0xFF41, 0xFF5A) || in(c, 0xFF66, 0xFFDC)) return true;
  return false;
}
// Java's Character.isDigit (the flex file's {DIGIT} and [:digit:]); rules
// written with [0-9] use is_digit() instead.
bool is_jdigit(char32_t c) {
  if (c < 0x80) return is_digit(c);
  static const char32_t kZeros[] = {0x660, 0x6F0, 0x7C0, 0x966, 0x9E6,  0xA66,  0xAE6,  0xB66,  0xBE6,  0xC66,  0xCE6,
                                    0xD66, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0xFF10};
  for (char32_t z : kZeros)
    if (in(c, z, z + 9)) return true;
  return false;
}
bool is_letter_or_digit(char32_t c) { return is_letter(c) || is_jdigit(c); }
// [:letter:] proper: the LETTER macro (is_letter) also admits the soft hyphen.
bool is_jletter(char32_t c) { return c != 0xAD && is_letter(c); }
bool is_jletter_or_digit(char32_t c) { return is_jletter(c) || is_jdigit(c); }

bool is_space(char32_t c) { return c == ' ' || c == '\t' || c == 0xA0 || in(c, 0x2000, 0x200A) || c == 0x3000; }
bool is_newline(char32_t c) {
  return c == '\r' || c == '\n' || c == 0x0B || c == 0x0C || c == 0x85 || c == 0x2028 || c == 0x2029;
}
bool is_spacenl(char32_t c) { return is_space(c) || is_newline(c); }
bool is_ignorable(char32_t c) {
  return c == 0 || c == 0x7F || c == 0x200B || c == 0x200E || c == 0x200F || c == 0xFEFF;
}

bool is_apos(char32_t c) { return c == '\'' || c == 0x92 || c == 0x2019; }
bool is_apos_etc(char32_t c) { return is_apos(c) || c == '`' || c == 0x91 || c == 0x2018 || c == 0x201B; }
bool is_hyphen(char32_t c) { return c == '-' || c == '_' || c == 0x58A || c == 0x2010 || c == 0x2011; }
bool is_insentp(char32_t c) { return c == ',' || c == ';' || c == ':' || c == 0x3001; }
bool is_quote_char(char32_t c) {
  return c == '`' || in(c, 0x2018, 0x201F) || in(c, 0x91, 0x94) || c == 0x2039 || c == 0x203A || c == 0xAB || c == 0xBB;
}
bool is_currency2(char32_t c) {
  return in(c, 0xA2, 0xA5) || c == 0x80 || c == 0x20A0 || c == 0x20AC || c == 0x60B || c == 0xE3F || c == 0x20A4 ||
         c == 0xFFE0 || c == 0xFFE1 || c == 0xFFE5 || c == 0xFFE6;
}
bool is_misc_symbol(char32_t c) {
  if (c < 0x80) return c == '+' || c == '%' || c == '&' || c == '~' || c == '^' || c == '|' || c == '\\';
  return in(c, 0xA6, 0xA9) || c == 0xAC || c == 0xAE || c == 0xAF || in(c, 0xB0, 0xBA) || c == 0xD7 || c == 0xF7 ||
         c == 0x387 || c == 0x5BE || c == 0x5C0 || c == 0x5C3 || c == 0x5C6 || c == 0x5F3 || c == 0x5F4 ||
         in(c, 0x600, 0x603) || in(c, 0x606, 0x60A) || c == 0x60C || c == 0x614 || c == 0x61B || c == 0x61E ||
         c == 0x66A || c == 0x66D || in(c, 0x703, 0x70D) || in(c, 0x7F6, 0x7F8) || c == 0x964 || c == 0x965 ||
         c == 0xE4F || c == 0x1FBD || c == 0x2016 || c == 0x2017 || in(c, 0x2020, 0x2023) || in(c, 0x2030, 0x2038) ||
         c == 0x203B || in(c, 0x203E, 0x2042) || c == 0x2044 || in(c, 0x207A, 0x207F) || in(c, 0x208A, 0x208E) ||
         in(c, 0x2100, 0x214F) || in(c, 0x2190, 0x21FF) || in(c, 0x2200, 0x2BFF) || c == 0x3012 || c == 0x30FB ||
         in(c, 0xFF01, 0xFF0F) || in(c, 0xFF1A, 0xFF20) || in(c, 0xFF3B, 0xFF40) || in(c, 0xFF5B, 0xFF65);
}

char32_t to_lower(char32_t c);
// A whole token in lower case; U+0130 (I with dot) becomes "i" + U+0307 as in Java.
U32 lowercase(const U32& t) {
  U32 out;
  for (char32_t c : t) {
    if (c == 0x130)
      out += U"i\u0307";
    else
      out.push_back(to_lower(c));
  }
  return out;
}

char32_t ascii_lower(char32_t c) { return in(c, 'A', 'Z') ? c + 32 : c; }

// Java's toLowerCase(Locale.ENGLISH) for ASCII, Latin-1, Latin Extended-A,
// Greek and Cyrillic capitals (enough for caption text).
char32_t to_lower(char32_t c) {
  if (in(c, 'A', 'Z') || (in(c, 0xC0, 0xDE) && c != 0xD7)) return c + 32;
  if (c == 0x130) return c;  // handled in lowercase(): it becomes two characters
  if (in(c, 0x100, 0x137) || in(c, 0x14A, 0x177)) return c % 2 == 0 ? c + 1 : c;
  if (in(c, 0x139, 0x148) || in(c, 0x179, 0x17E)) return c % 2 == 1 ? c + 1 : c;
  if (c == 0x178) return 0xFF;
  if (in(c, 0x391, 0x3A9) && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (in(c, 0x388, 0x38A)) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c == 0x3F9) return 0x3F2;
  if (c == 0x3CF) return 0x3D7;
  if (in(c, 0x3D8, 0x3EF) || c == 0x3F7 || c == 0x3FA) return c % 2 == 0 ? c + 1 : c;
  if (in(c, 0x3FD, 0x3FF)) return c - 130;
  if (in(c, 0x410, 0x42F)) return c + 32;
  if (in(c, 0x400, 0x40F)) return c + 80;
  if (in(c, 0x460, 0x481) || in(c, 0x48A, 0x4BF) || in(c, 0x4D0, 0x52F)) return c % 2 == 0 ? c + 1 : c;
  if (in(c, 0x531, 0x556)) return c + 48;
  if (in(c, 0xFF21, 0xFF3A)) return c + 32;
  return c;
}

// ------------------------------------------------------------ the lexer ---

struct Match {
  size_t length = 0;   // matched length including trailing context: decides the longest match
  size_t consume = 0;  // characters used up; the rest is scanned again (JFlex yypushback)
  U32 token;           // the token text
};

// Abbreviation alternatives: '^' before a letter makes it case-sensitive (the
// flex file's "[M]iss"); every other letter matches either case (%caseless).
using WordList = std::initializer_list<const char*>;
const WordList kAbbrev1 = {
    // ABMONTH, ABDAYS
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed",
    "thu", "thurs", "fri",
    // ABSTATE
    "ala", "ariz", "^Az", "^Ark", "calif", "colo", "conn", "ct", "dak", "^Del", "fla", "ga", "^Ill", "ind", "kan",
    "kans", "ky", "^La", "^Mass", "md", "mich", "minn", "^Miss", "mo", "mont", "neb", "nev", "okla", "^Ore", "^Pa",
    "penn", "tenn", "^Tex", "va", "vt", "^Wash", "wis", "wisc", "wyo",
    // ABCOMP
    "inc", "co", "cos", "corp", "pty", "pte", "ptys", "ptes", "ppty", "ppte", "pptys", "pptes", "ltd", "plc", "rt",
    "bancorp", "bhd", "assn", "univ", "intl", "sys",
    // ABNUM, ABPTIT, others
    "tel", "est", "ext", "sq", "jr", "sr", "bros", "ed.d", "ph.d", "blvd", "rd", "esq", "etc", "al", "seq", "bldg"};
const WordList kAbbrev4Words = {
    // ABTITLE
    "mr", "mrs", "ms", "^Miss", "dr", "drs", "prof", "profs", "sen", "sens", "rep", "reps", "atty", "attys", "lt",
    "col", "gen", "messrs", "gov", "govs", "adm", "rev", "maj", "sgt", "cpl", "pvt", "capt", "st", "ste", "ave", "pres",
    "lieut", "hon", "brig", "cmdr", "comdr", "pfc", "spc", "supt", "supts", "det", "mt", "ft", "adj", "adv", "asst",
    "assoc", "ens", "insp", "mlle", "mme", "msgr", "sfc",
    // the rest of ABBREV4, ABCOMP2
    "vs", "alex", "wm", "jos", "cie", "a.k.a", "cf", "treas", "ph", "invt", "elec", "natl", "mfg", "mtg", "dept"};
const WordList kAbbrev3 = {"ca", "fig", "figs", "prop", "no", "nos", "art", "bldg", "pp", "op"};
// Words after which an acronym's period also ends the sentence (first letter case-sensitive).
const WordList kSentenceStarters = {
    "^About", "^According", "^Additionally", "^After",   "^An",    "^A",     "^As",    "^At",    "^But",   "^Earlier",
    "^He",    "^Her",       "^Here",         "^However", "^If",    "^In",    "^It",    "^Last",  "^Many",  "^More",
    "^Mr.",   "^Ms.",       "^Now",          "^Once",    "^One",   "^Other", "^Our",   "^She",   "^Since", "^So",
    "^Some",  "^Such",      "^That",         "^The",     "^Their", "^Then",  "^There", "^These", "^They",  "^This",
    "^We",    "^When",      "^While",        "^What",    "^Yet",   "^You"};

// Scans the whole file coco-caption writes: captions joined by '\n'. Each
// '\n' ends an output line (-preserveLines); trailing contexts may look
// across it into the next caption, as in the real run.
class Lexer {
 public:
  explicit Lexer(U32 text) : s_(std::move(text)) {}

  std::vector<std::vector<U32>> run() {
    std::vector<std::vector<U32>> lines(1);
    size_t p = 0;
    while (p < s_.size()) {
      char32_t c = s_[p];
      // Separators: a run of spaces, one newline character (other than the
      // joining '\n' these act as spaces here), or an ignorable character.
      size_t sep = is_space(c) ? run_of(p, is_space) : (is_newline(c) || is_ignorable(c)) ? 1 : 0;
      Match m = best_match(p);
      if (sep > 0 && (m.consume == 0 || m.length < sep)) {  // (a URL rule can start at a NBSP and win)
        if (c == '\n') lines.emplace_back();
        p += sep;
        continue;
      }
      if (m.consume == 0) {  // untokenizable: PTBTokenizer's default deletes it
        ++p;
        continue;
      }
      lines.back().push_back(m.token);
      p += m.consume;
    }
    return lines;
  }

 private:
  U32 s_;

  char32_t at(size_t i) const { return i < s_.size() ? s_[i] : kEnd; }
  U32 sub(size_t p, size_t n) const { return s_.substr(p, n); }

  // Case-insensitive literal (ASCII) at p; returns its length or 0.
  size_t lit(size_t p, const char* word) const {
    size_t i = 0;
    for (; word[i]; ++i)
      if (ascii_lower(at(p + i)) != static_cast<char32_t>(word[i])) return 0;
    return i;
  }
  // One WordList alternative at p (see WordList); returns its length or 0.
  size_t alt(size_t p, const char* word) const {
    size_t i = 0, k = 0;
    for (; word[k]; ++k, ++i) {
      if (word[k] == '^') {
        ++k;
        if (at(p + i) != static_cast<char32_t>(word[k])) return 0;
      } else if (ascii_lower(at(p + i)) != ascii_lower(static_cast<char32_t>(word[k]))) {
        return 0;
      }
    }
    return i;
  }
  // Lengths of every alternative that matches at p and is followed by '.'.
  std::vector<size_t> alts_before_period(size_t p, const WordList& list) const {
    std::vector<size_t> out;
    for (const char* w : list) {
      size_t n = alt(p, w);
      if (n > 0 && at(p + n) == '.') out.push_back(n);
    }
    return out;
  }

  size_t run_of(size_t p, bool (*pred)(char32_t)) const {
    size_t i = p;
    while (i < s_.size() && pred(s_[i])) ++i;
    return i - p;
  }

  // WORD = LETTER (LETTER|DIGIT)* ([.!?] LETTER (LETTER|DIGIT)*)*
  size_t word_len(size_t p) const {
    if (!is_letter(at(p))) return 0;
    size_t i = p + 1 + run_of(p + 1, is_letter_or_digit);
    while ((at(i) == '.' || at(i) == '!' || at(i) == '?') && is_letter(at(i + 1)))
      i += 2 + run_of(i + 2, is_letter_or_digit);
    return i - p;
  }
  // REDAUX = APOS ([msd] | re | ve | ll)
  size_t redaux_len(size_t p) const {
    if (!is_apos(at(p))) return 0;
    char32_t a = ascii_lower(at(p + 1)), b = ascii_lower(at(p + 2));
    if ((a == 'r' || a == 'v') && b == 'e') return 3;
    if (a == 'l' && b == 'l') return 3;
    return (a == 'm' || a == 's' || a == 'd') ? 2 : 0;
  }
  // SREDAUX = n APOSETCETERA t
  size_t sredaux_len(size_t p) const {
    return ascii_lower(at(p)) == 'n' && is_apos_etc(at(p + 1)) && ascii_lower(at(p + 2)) == 't' ? 3 : 0;
  }
  // ACRO = [A-Za-z](\.[A-Za-z])* | (Canada|Sino|Korean|EU|Japan|non)-U\.S | U\.S\.-(U\.K|U\.S\.S\.R)
  // (min_dots = 1 gives ACRO2)
  size_t acro_len(size_t p, int min_dots = 0) const {
    size_t best = 0;
    if (is_ascii_alpha(at(p))) {
      size_t i = p + 1;
      int dots = 0;
      while (at(i) == '.' && is_ascii_alpha(at(i + 1))) i += 2, ++dots;
      if (dots >= min_dots) best = i - p;
    }
    for (const char* pre : {"canada", "sino", "korean", "eu", "japan", "non"})
      if (size_t n = lit(p, pre); n && lit(p + n, "-u.s")) best = std::max(best, n + 4);
    if (lit(p, "u.s.-u.s.s.r"))
      best = std::max<size_t>(best, 12);
    else if (lit(p, "u.s.-u.k"))
      best = std::max<size_t>(best, 8);
    return best;
  }
  // ABBREV4 = ABTITLE | ... | ACRO | ABCOMP2, all the lengths that fit before a '.'
  std::vector<size_t> abbrev4_before_period(size_t p) const {
    auto out = alts_before_period(p, kAbbrev4Words);
    if (size_t n = acro_len(p); n > 0 && at(p + n) == '.') out.push_back(n);
    return out;
  }
  // THING segment: ([dDoOlL] APOSETC (L|D))? (L|D)+
  size_t thing_segment(size_t p) const {
    char32_t c = at(p);
    bool prefix = (c == 'd' || c == 'D' || c == 'o' || c == 'O' || c == 'l' || c == 'L') && is_apos_etc(at(p + 1)) &&
                  is_jletter_or_digit(at(p + 2)) && is_jletter_or_digit(at(p + 3));
    if (prefix) return 3 + run_of(p + 3, is_jletter_or_digit);
    return run_of(p, is_jletter_or_digit);
  }
  // THING = segment (HYPHEN segment)*
  size_t thing_len(size_t p) const {
    size_t i = p + thing_segment(p);
    if (i == p) return 0;
    while (is_hyphen(at(i))) {
      size_t n = thing_segment(i + 1);
      if (n == 0) break;
      i += 1 + n;
    }
    return i - p;
  }
  // HTHING = [A-Za-z0-9][A-Za-z0-9.,]* (-([A-Za-z0-9]+ | ACRO2\.))+
  size_t hthing_len(size_t p) const {
    if (!is_ascii_alnum(at(p))) return 0;
    size_t i = p + 1 + run_of(p + 1, [](char32_t c) { return is_ascii_alnum(c) || c == '.' || c == ',' || c == 0xAD; });
    size_t groups = 0;
    while (at(i) == '-') {
      size_t a = run_of(i + 1, [](char32_t c) { return is_ascii_alnum(c) || c == 0xAD; });
      size_t b = acro_len(i + 1, 1);
      b = (b > 0 && at(i + 1 + b) == '.') ? b + 1 : 0;
      size_t n = std::max(a, b);
      if (n == 0) break;
      i += 1 + n;
      ++groups;
    }
    return groups > 0 ? i - p : 0;
  }
  // THINGA = [A-Z]+ (([+&] | &amp;) [A-Z]+)+   (upper case only: caseless does not widen classes)
  size_t thinga_len(size_t p) const {
    auto upper = [](char32_t c) { return in(c, 'A', 'Z'); };
    size_t i = p + run_of(p, upper);
    if (i == p) return 0;
    size_t groups = 0;
    for (;;) {
      size_t sep = lit(i, "&amp;") ? 5 : (at(i) == '+' || at(i) == '&') ? 1 : 0;
      size_t n = sep ? run_of(i + sep, upper) : 0;
      if (n == 0) break;
      i += sep + n;
      ++groups;
    }
    return groups > 0 ? i - p : 0;
  }
  // NUMBER = [-+]? (DIGIT+ | DIGIT* ([.:,] DIGIT+)+)
  size_t number_len(size_t p) const {
    size_t i = p;
    if (at(i) == '-' || at(i) == '+') ++i;
    size_t start = i;
    i += run_of(i, is_jdigit);
    while ((at(i) == '.' || at(i) == ':' || at(i) == ',' || at(i) == 0xAD || at(i) == 0x66B || at(i) == 0x66C) &&
           is_jdigit(at(i + 1)))
      i += 1 + run_of(i + 1, is_jdigit);
    return i > start ? i - p : 0;
  }
  // FRAC = (DIGIT{1,4} [- NBSP])? DIGIT{1,4} (\\?/ | U+2044) DIGIT{1,4}
  size_t frac_core(size_t p) const {
    size_t a = run_of(p, is_jdigit);
    if (a == 0 || a > 4) return 0;
    size_t i = p + a;
    if (at(i) == '\\' && at(i + 1) == '/') ++i;
    if (at(i) != '/' && at(i) != 0x2044) return 0;
    size_t b = std::min<size_t>(run_of(i + 1, is_jdigit), 4);
    return b > 0 ? i + 1 + b - p : 0;
  }
  size_t frac_len(size_t p) const {
    size_t best = frac_core(p);
    size_t a = run_of(p, is_jdigit);
    if (a >= 1 && a <= 4 && (at(p + a) == '-' || at(p + a) == ' ' || at(p + a) == 0xA0))
      if (size_t n = frac_core(p + a + 1)) best = std::max(best, a + 1 + n);
    return best;
  }
  // THING3 = [A-Za-z0-9]+ (-[A-Za-z]+){0,2} (\\?/ [A-Za-z0-9]+ (-[A-Za-z]+){0,2}){1,2}
  size_t thing3_part(size_t p) const {
    size_t i = p + run_of(p, is_ascii_alnum);
    if (i == p) return 0;
    for (int k = 0; k < 2 && at(i) == '-'; ++k) {
      size_t n = run_of(i + 1, is_ascii_alpha);
      if (n == 0) break;
      i += 1 + n;
    }
    return i - p;
  }
  size_t thing3_len(size_t p) const {
    size_t i = p + thing3_part(p);
    if (i == p) return 0;
    int groups = 0;
    while (groups < 2) {
      size_t j = i;
      if (at(j) == '\\' && at(j + 1) == '/') ++j;
      if (at(j) != '/') break;
      size_t n = thing3_part(j + 1);
      if (n == 0) break;
      i = j + 1 + n;
      ++groups;
    }
    return groups > 0 ? i - p : 0;
  }
  // SENTEND = SPACENL (SPACENL | [:uppercase:])
  bool sentend(size_t i) const { return is_spacenl(at(i)) && (is_spacenl(at(i + 1)) || is_upper(at(i + 1))); }

  // handleQuotes with latexQuotes on: ' -> ` or ', " -> `` or '', curly forms mapped the same way.
  static U32 latex_quotes(U32 t, bool probably_left) {
    U32 out;
    for (char32_t c : t) {
      if (c == '\'')
        out += probably_left ? U"`" : U"'";
      else if (c == '"')
        out += probably_left ? U"``" : U"''";
      else if (c == 0x91 || c == 0x2018 || c == 0x201B || c == 0x2039)
        out += U"`";
      else if (c == 0x92 || c == 0x2019 || c == 0x203A)
        out += U"'";
      else if (c == 0x93 || c == 0x201C || c == 0xAB)
        out += U"``";
      else if (c == 0x94 || c == 0x201D || c == 0xBB)
        out += U"''";
      else
        out.push_back(c);
    }
    return out;
  }
  static U32 normalize_amp(const U32& t) {  // "&amp;" -> "&"
    U32 out;
    for (size_t i = 0; i < t.size(); ++i) {
      out.push_back(t[i]);
      if (t.compare(i, 5, U"&amp;") == 0) i += 4;
    }
    return out;
  }
  static U32 remove_soft_hyphens(U32 t) {
    t.erase(std::remove(t.begin(), t.end(), char32_t(0xAD)), t.end());
    return t.empty() ? U32(U"-") : t;
  }

  // The longest match so far at one position (ties keep the earlier rule).
  struct Scan {
    const Lexer& lexer;
    size_t p;
    Match best;
    void offer(size_t length, size_t consume, U32 token) {
      if (length > best.length) best = Match{length, consume, std::move(token)};
    }
    void plain(size_t n) {  // a rule whose token is the matched text itself
      if (n > 0) offer(n, n, lexer.sub(p, n));
    }
  };

  // Every rule that matches at p, in PTBLexer.flex order; the longest wins.
  Match best_match(size_t p) const {
    Scan s{*this, p, {}};
    word_rules(p, s);
    number_rules(p, s);
    abbreviation_rules(p, s);
    punctuation_rules(p, s);
    return s.best;
  }
  // Fixed forms, words and their contractions, URLs, e-mail, twitter names.
  void word_rules(size_t p, Scan& s) const {
    const char32_t c = at(p);

    // c++, c#, f#
    if (size_t n = lit(p, "c++")) s.plain(n);
    if (ascii_lower(c) == 'c' || ascii_lower(c) == 'f') s.plain(at(p + 1) == '#' ? 2 : 0);
    // Assimilations are split: can|not, 't|was, 't|is, gon|na, got|ta, lem|me, gim|me, wan|na.
    if (lit(p, "cannot")) s.offer(6, 3, sub(p, 3));
    if (c == '\'' && lit(p, "'twas")) s.offer(5, 2, sub(p, 2));
    if (c == '\'' && lit(p, "'tis")) s.offer(4, 2, sub(p, 2));
    for (const char* w : {"gonna", "gotta", "lemme", "gimme", "wanna"})
      if (lit(p, w)) s.offer(5, 3, sub(p, 3));
    if (c == '<')
      if (size_t n = sgml_len(p)) {
        U32 t = sub(p, n);
        std::replace(t.begin(), t.end(), char32_t(' '), char32_t(0xA0));  // normalizeSpace
        s.offer(n, n, t);
      }
    // SPMDASH: en/em dashes -> "--"
    if (c == 0x96 || c == 0x97 || in(c, 0x2013, 0x2015)) s.offer(1, 1, U"--");
    for (const char* e : {"&md;", "&mdash;", "&ndash;"})
      if (size_t n = lit(p, e)) s.offer(n, n, U"--");
    if (lit(p, "&amp;")) s.offer(5, 5, U"&");
    // WORD/REDAUX: "man's" -> man ; SWORD/SREDAUX: "don't" -> do
    size_t w = word_len(p);
    if (w > 0)
      if (size_t r = redaux_len(p + w)) s.offer(w + r, w, remove_soft_hyphens(sub(p, w)));
    {
      size_t run = run_of(p, [](char32_t x) { return is_ascii_alpha(x) || x == 0xAD; });
      while (run > 0 && at(p + run - 1) == 0xAD) --run;  // (the flex allows trailing soft hyphens; rare)
      if (run >= 2 && ascii_lower(at(p + run - 1)) == 'n' && ascii_lower(at(p + run - 2)) != 'n' &&
          sredaux_len(p + run - 1))
        s.offer(run - 1 + 3, run - 1, remove_soft_hyphens(sub(p, run - 1)));
    }
    if (w > 0) s.offer(w, w, remove_soft_hyphens(sub(p, w)));
    for (size_t n : apoword(p)) s.plain(n);
    if ((c == 'y' || c == 'Y') && is_apos(at(p + 1)) && is_jletter(at(p + 2))) s.offer(3, 2, sub(p, 2));
    s.plain(full_url_len(p));
    s.plain(likely_url_len(p));
    s.plain(email_len(p));
    // TWITTER: @name, #category
    if (c == '@' && (is_ascii_alpha(at(p + 1)) || at(p + 1) == '_'))
      s.plain(1 + run_of(p + 1, [](char32_t x) { return is_ascii_alnum(x) || x == '_'; }));
    if (c == '#') s.plain(run_of(p + 1, is_letter) > 0 ? 1 + run_of(p + 1, is_letter) : 0);
  }
  // Contraction tails, dates, numbers, fractions, special tokens, currency.
  void number_rules(size_t p, Scan& s) const {
    const char32_t c = at(p);
    // REDAUX/[^A-Za-z], SREDAUX/[^A-Za-z]
    if (size_t r = redaux_len(p); r && at(p + r) != kEnd && !is_ascii_alpha(at(p + r)))
      s.offer(r + 1, r, latex_quotes(sub(p, r), false));
    if (size_t r = sredaux_len(p); r && at(p + r) != kEnd && !is_ascii_alpha(at(p + r)))
      s.offer(r + 1, r, latex_quotes(sub(p, r), false));
    // DATE, NUMBER, FRAC, FRAC2
    s.plain(date_len(p));
    if (size_t n = number_len(p)) s.offer(n, n, remove_soft_hyphens(sub(p, n)));
    {  // SUBSUPNUM = [U+207A U+207B U+208A U+208B]? ([superscript digits]+ | [subscript digits]+)
      auto sup = [](char32_t x) { return x == 0x2070 || x == 0xB9 || x == 0xB2 || x == 0xB3 || in(x, 0x2074, 0x2079); };
      auto subs = [](char32_t x) { return in(x, 0x2080, 0x2089); };
      size_t i = (c == 0x207A || c == 0x207B || c == 0x208A || c == 0x208B) ? p + 1 : p;
      size_t n = std::max(run_of(i, sup), run_of(i, subs));
      if (n) s.plain(i + n - p);
    }
    if (size_t n = frac_len(p)) {
      U32 t = sub(p, n);
      std::replace(t.begin(), t.end(), char32_t(' '), char32_t(0xA0));  // normalizeSpace
      s.offer(n, n, t);
    }
    if (c == 0xBC) s.offer(1, 1, U"1/4");
    if (c == 0xBD) s.offer(1, 1, U"1/2");
    if (c == 0xBE) s.offer(1, 1, U"3/4");
    if (c == 0x2153) s.offer(1, 1, U"1/3");
    if (c == 0x2154) s.offer(1, 1, U"2/3");
    if (in(c, 0x2155, 0x215E)) s.plain(1);
    // TBSPEC: a literal -LRB- etc., pro-, anti-, and a few fixed forms
    for (const char* t : {"-rrb-", "-lrb-", "-rcb-", "-lcb-", "-rsb-", "-lsb-", "c.d.s", "pro-", "anti-", "s&p-500",
                          "s&amp;p-500", "s&ls", "s&amp;ls", "cap'n", "c'est"})
      if (size_t n = lit(p, t)) s.offer(n, n, normalize_amp(sub(p, n)));
    s.plain(thing3_len(p));
    // DOLSIGN = [A-Z]*\$ | #
    {
      size_t u = run_of(p, [](char32_t x) { return in(x, 'A', 'Z'); });
      if (at(p + u) == '$') s.plain(u + 1);
      if (c == '#') s.plain(1);
    }
    // DOLSIGN2: currency symbols (cents, pound -> #, euro/generic -> $)
    if (is_currency2(c)) {
      U32 t = c == 0xA2                                                ? U"cents"
              : c == 0xA3                                              ? U"#"
              : (c == 0x80 || c == 0xA4 || c == 0x20A0 || c == 0x20AC) ? U"$"
                                                                       : U32(1, c);
      s.offer(1, 1, t);
    }
  }
  // Acronyms, abbreviations, file names, "word." before , ; : and phone numbers.
  void abbreviation_rules(size_t p, Scan& s) const {
    const char32_t c = at(p);
    const size_t w = word_len(p);
    acronym_before_sentence_start(p, s);
    // ABBREV3 before a number: "no. 5"
    for (size_t n : alts_before_period(p, kAbbrev3)) {
      size_t i = p + n + 1;
      if (is_jdigit(at(i)))
        s.offer(n + 2, n + 1, sub(p, n + 1));
      else if (is_spacenl(at(i)) && is_jdigit(at(i + 1)))
        s.offer(n + 3, n + 1, sub(p, n + 1));
    }
    // (pty|co)./ SPACE (ltd|lim)
    for (const char* t : {"pty.", "pte.", "co."})
      if (size_t n = lit(p, t); n && is_space(at(p + n)) && (lit(p + n + 1, "ltd") || lit(p + n + 1, "lim")))
        s.offer(n + 4, n, sub(p, n));
    // ABBREV1: the token keeps its period; at a sentence end the period is also returned again.
    for (size_t n : alts_before_period(p, kAbbrev1)) {
      size_t len = n + 1;
      if (sentend(p + len)) s.offer(len + 2, len - 1, sub(p, len));
      if (at(p + len) != kEnd && at(p + len + 1) != kEnd) s.offer(len + 2, len, sub(p, len));
      s.offer(len, len - 1, sub(p, len));
    }
    // ABBREV2 = ABBREV4 "." : "mr.", "st.", "u.s.", a single letter "x."
    for (size_t n : abbrev4_before_period(p)) s.plain(n + 1);
    // ACRO/{SPACENL}
    if (size_t n = acro_len(p); n && is_spacenl(at(p + n))) s.offer(n + 1, n, sub(p, n));
    // TBSPEC2/SPACENL: '90
    if (is_apos(c) && is_digit(at(p + 1)) && is_digit(at(p + 2)) && is_spacenl(at(p + 3))) s.offer(4, 3, sub(p, 3));
    // FILENAME/(SPACENL|[.?!,]): "photo.jpg"
    if (size_t n = filename_len(p)) s.offer(n + 1, n, sub(p, n));
    // WORD./INSENTP
    if (w > 0 && at(p + w) == '.' && is_insentp(at(p + w + 1)))
      s.offer(w + 2, w + 1, remove_soft_hyphens(sub(p, w + 1)));
    if (size_t n = phone_len(p)) {
      U32 t;
      for (char32_t x : sub(p, n))
        t += x == ' ' ? U32(1, 0xA0) : x == '(' ? U32(U"-LRB-") : x == ')' ? U32(U"-RRB-") : U32(1, x);
      s.offer(n, n, t);
    }
  }
  // Quotes, brackets, dashes, dots, other punctuation, hyphenated words and symbols.
  void punctuation_rules(size_t p, Scan& s) const {
    const char32_t c = at(p);
    // DBLQUOT: opening before [A-Za-z0-9$], closing otherwise
    if (c == '"')
      s.offer(is_ascii_alnum(at(p + 1)) || at(p + 1) == '$' ? 2 : 1, 1,
              latex_quotes(U"\"", is_ascii_alnum(at(p + 1)) || at(p + 1) == '$'));
    if (c == '<') s.offer(1, 1, U"<");
    if (c == '>') s.offer(1, 1, U">");
    for (const char* e : {"&lt;", "&gt;"})
      if (size_t n = lit(p, e)) s.offer(n, n, e[1] == 'l' ? U"<" : U">");
    smiley(p, s);
    if (size_t n = asian_smiley_len(p)) {
      U32 t;
      for (char32_t x : sub(p, n)) t += x == '(' ? U32(U"-LRB-") : x == ')' ? U32(U"-RRB-") : U32(1, x);
      s.offer(n, n, t);
    }
    // Brackets
    if (c == '{') s.offer(1, 1, U"-LCB-");
    if (c == '}') s.offer(1, 1, U"-RCB-");
    if (c == '[') s.offer(1, 1, U"-LSB-");
    if (c == ']') s.offer(1, 1, U"-RSB-");
    if (c == '(') s.offer(1, 1, U"-LRB-");
    if (c == ')') s.offer(1, 1, U"-RRB-");
    // HYPHENS: 3-4 hyphens become "--"
    if (size_t n = run_of(p, [](char32_t x) { return x == '-'; }))
      s.offer(n, n, n >= 3 && n <= 4 ? U32(U"--") : sub(p, n));
    // LDOTS -> "..."
    if (size_t n = ldots_len(p)) s.offer(n, n, U"...");
    // FNMARKS, ASTS
    if (c == '@' || c == '#' || c == '_' || c == '*') s.plain(run_of_char(p, c));
    for (size_t k = 0; k < 3 && at(p + 2 * k) == '\\' && at(p + 2 * k + 1) == '*'; ++k) s.plain(2 * k + 2);  // \*
    // INSENTP, [?!]+, sentence-final punctuation, =, /
    if (is_insentp(c)) s.plain(1);
    if (c == '?' || c == '!') s.plain(run_of(p, [](char32_t x) { return x == '?' || x == '!'; }));
    if (c == '.' || c == 0xA1 || c == 0xBF || c == 0x37E || c == 0x589 || c == 0x61F || c == 0x6D4 ||
        in(c, 0x700, 0x702) || c == 0x7FA || c == 0x3002)
      s.plain(1);
    if (c == '=' || c == '/') s.plain(1);
    // HTHING, THING, THINGA (each also as "<thing>." before , ; :)
    for (size_t n : {hthing_len(p), thing_len(p)}) {
      if (n == 0) continue;
      if (at(p + n) == '.' && is_insentp(at(p + n + 1))) s.offer(n + 2, n + 1, remove_soft_hyphens(sub(p, n + 1)));
      s.offer(n, n, remove_soft_hyphens(sub(p, n)));
    }
    if (size_t n = thinga_len(p)) {
      if (at(p + n) == '.' && is_insentp(at(p + n + 1))) s.offer(n + 2, n + 1, normalize_amp(sub(p, n + 1)));
      s.offer(n, n, normalize_amp(sub(p, n)));
    }
    // An opening single quote: '/[A-Za-z][^ \t\n\r NBSP]
    if (c == '\'' && is_ascii_alpha(at(p + 1)) && at(p + 2) != kEnd && at(p + 2) != ' ' && at(p + 2) != '\t' &&
        at(p + 2) != '\n' && at(p + 2) != '\r' && at(p + 2) != 0xA0)
      s.offer(3, 1, U"`");
    if (size_t r = redaux_len(p)) s.offer(r, r, latex_quotes(sub(p, r), false));
    if (size_t r = sredaux_len(p)) s.offer(r, r, latex_quotes(sub(p, r), false));
    // QUOTES = APOS | '' | [`‘’‚‛“”„‟‹›«»]{1,2}
    if (is_apos(c))
      s.offer(c == '\'' && at(p + 1) == '\'' ? 2 : 1, c == '\'' && at(p + 1) == '\'' ? 2 : 1,
              latex_quotes(sub(p, c == '\'' && at(p + 1) == '\'' ? 2 : 1), false));
    if (is_quote_char(c)) {
      size_t n = is_quote_char(at(p + 1)) ? 2 : 1;
      s.offer(n, n, latex_quotes(sub(p, n), false));
    }
    if ((c == '<' && at(p + 1) == '<') || (c == '>' && at(p + 1) == '>')) s.plain(2);
    if (is_misc_symbol(c)) s.plain(1);
  }

  size_t run_of_char(size_t p, char32_t m) const {
    size_t i = p;
    while (at(i) == m) ++i;
    return i - p;
  }
  // SGML = <[!?][A-Za-z-][^>\r\n]*>  |  <name( attr| attr=('..'|".."))* /?>  |  </name>  (spaces allowed where shown)
  size_t sgml_len(size_t p) const {
    auto name_char = [](char32_t x) { return is_ascii_alnum(x) || x == '_' || x == ':' || x == '.' || x == '-'; };
    auto spaces = [&](size_t i) { return i + run_of_char(i, ' '); };
    auto name = [&](size_t i) { return is_ascii_alpha(at(i)) ? i + 1 + run_of(i + 1, name_char) : i; };
    size_t i = p + 1;
    if (at(i) == '!' || at(i) == '?') {
      if (!is_ascii_alpha(at(i + 1)) && at(i + 1) != '-') return 0;
      i += 2;
      while (at(i) != kEnd && at(i) != '>' && at(i) != '\r' && at(i) != '\n') ++i;
    } else if (at(i) == '/') {
      size_t e = name(i + 1);
      if (e == i + 1) return 0;
      i = spaces(e);
    } else {
      size_t e = name(i);
      if (e == i) return 0;
      i = e;
      for (;;) {  // attributes: ( +name| +name *= *('...'|"..."))*
        size_t j = spaces(i);
        if (j == i) break;
        size_t k = name(j);
        if (k == j) break;
        size_t v = spaces(k);
        if (at(v) == '=') {
          v = spaces(v + 1);
          char32_t q = at(v);
          if (q != '\'' && q != '"') break;
          size_t close = v + 1;
          while (at(close) != kEnd && at(close) != q) ++close;
          if (at(close) != q) break;
          k = close + 1;
        }
        i = k;
      }
      i = spaces(i);
      if (at(i) == '/') ++i;
      i = spaces(i);
    }
    return at(i) == '>' ? i + 1 - p : 0;
  }
  // FULLURL = https?://[^ \t\n\f\r"<>|(){}]+[^ \t\n\f\r"<>|.!?(){},-]
  size_t full_url_len(size_t p) const {
    size_t i = lit(p, "https://") ? p + 8 : lit(p, "http://") ? p + 7 : 0;
    if (i == 0) return 0;
    auto body = [](char32_t x) {
      return !(x == kEnd || x == ' ' || x == '\t' || x == '\n' || x == '\f' || x == '\r' || x == '"' || x == '<' ||
               x == '>' || x == '|' || x == '(' || x == ')' || x == '{' || x == '}');
    };
    auto last_ok = [&](char32_t x) { return body(x) && x != '.' && x != '!' && x != '?' && x != ',' && x != '-'; };
    size_t e = i + run_of(i, body);
    while (e > i + 1 && !last_ok(at(e - 1))) --e;
    return e >= i + 2 && last_ok(at(e - 1)) ? e - p : 0;
  }
  // FILENAME = (L|D)+ (\.(L|D)+)* \.EXT, when followed by SPACENL or [.?!,]
  size_t filename_len(size_t p) const {
    size_t i = p + run_of(p, is_letter_or_digit), best = 0;
    if (i == p) return 0;
    while (at(i) == '.') {
      for (const char* ext : {"bat", "bmp", "c",    "class", "cgi",  "cpp",  "dll", "doc", "docx", "exe", "gif", "gz",
                              "h",   "htm", "html", "jar",   "java", "jpeg", "jpg", "mov", "mp3",  "pdf", "php", "pl",
                              "png", "ppt", "ps",   "py",    "sql",  "tar",  "txt", "wav", "x",    "xml", "zip"}) {
        size_t n = lit(i + 1, ext);
        char32_t after = at(i + 1 + n);
        if (n && (is_spacenl(after) || after == '.' || after == '?' || after == '!' || after == ','))
          best = std::max(best, i + 1 + n - p);
      }
      size_t n = run_of(i + 1, is_letter_or_digit);
      if (n == 0) break;
      i += 1 + n;
    }
    return best;
  }
  // LIKELYURL = (www\.([^ \t\n\f\r"<>|.!?(){},]+\.)+[a-zA-Z]{2,4}
  //              | ([^ \t\n\f\r"`'<>|.!?(){},-_$]+\.)+(com|net|org|edu))  (/path)?
  // In the second class ",-_" is a range (0x2C-0x5F): no digits, no capitals.
  size_t likely_url_len(size_t p) const {
    auto www_label = [](char32_t x) {
      return !(x == kEnd || x == ' ' || x == '\t' || x == '\n' || x == '\f' || x == '\r' || x == '"' || x == '<' ||
               x == '>' || x == '|' || x == '.' || x == '!' || x == '?' || x == '(' || x == ')' || x == '{' ||
               x == '}' || x == ',');
    };
    auto label = [](char32_t x) {
      return !(x == kEnd || x == ' ' || x == '\t' || x == '\n' || x == '\f' || x == '\r' || x == '"' || x == '`' ||
               x == '\'' || x == '<' || x == '>' || x == '|' || x == '!' || x == '?' || x == '(' || x == ')' ||
               x == '{' || x == '}' || in(x, 0x2C, 0x5F) || x == '$');
    };
    std::vector<size_t> ends;  // candidate ends of the host part
    bool www = lit(p, "www.") > 0;
    size_t i = www ? p + 4 : p;
    for (;;) {  // labels, each followed by '.'
      size_t n = run_of(i, www ? +www_label : +label);
      if (n == 0 || at(i + n) != '.') break;
      i += n + 1;
      if (www) {
        size_t t = std::min<size_t>(run_of(i, is_ascii_alpha), 4);
        if (t >= 2) ends.push_back(i + t);
      } else {
        for (const char* tld : {"com", "net", "org", "edu"})
          if (lit(i, tld)) ends.push_back(i + 3);
      }
    }
    size_t best = 0;
    for (size_t e : ends) best = std::max(best, e + url_path_len(e) - p);
    return best;
  }
  // (/[^ \t\n\f\r"<>|()]+[^ \t\n\f\r"<>|.!?(){},-])? : length of the optional path at e
  size_t url_path_len(size_t e) const {
    if (at(e) != '/') return 0;
    auto body = [](char32_t x) {
      return !(x == kEnd || x == ' ' || x == '\t' || x == '\n' || x == '\f' || x == '\r' || x == '"' || x == '<' ||
               x == '>' || x == '|' || x == '(' || x == ')');
    };
    auto last_ok = [&](char32_t x) {
      return body(x) && x != '.' && x != '!' && x != '?' && x != '{' && x != '}' && x != ',' && x != '-';
    };
    size_t r = run_of(e + 1, body);
    for (size_t j = e + r; j >= e + 2; --j)
      if (last_ok(at(j))) return j + 1 - e;
    return 0;
  }
  // EMAIL = <?[a-zA-Z0-9][^ \t\n\f\r"<>|()NBSP{}]*@([^ ...{}.NBSP]+\.)*[^ ...{}.NBSP]+>?
  size_t email_len(size_t p) const {
    auto local = [](char32_t x) {
      return !(x == kEnd || x == ' ' || x == '\t' || x == '\n' || x == '\f' || x == '\r' || x == '"' || x == '<' ||
               x == '>' || x == '|' || x == '(' || x == ')' || x == 0xA0 || x == '{' || x == '}');
    };
    size_t start = at(p) == '<' ? p + 1 : p;
    if (!is_ascii_alnum(at(start))) return 0;
    size_t best = 0;
    size_t run_end = start + 1 + run_of(start + 1, local);
    for (size_t k = start + 1; k < run_end; ++k) {
      if (at(k) != '@') continue;
      // Domain: labels of [^... .]+ separated by single dots, ending in a label.
      size_t i = k + 1, end = 0;
      while (local(at(i)) && at(i) != '.') {
        while (local(at(i)) && at(i) != '.') ++i;
        end = i;
        if (at(i) == '.' && local(at(i + 1)) && at(i + 1) != '.')
          ++i;
        else
          break;
      }
      if (end == 0) continue;
      if (at(end) == '>') ++end;
      best = std::max(best, end - p);
    }
    return best;
  }
  // A regular expression that is a plain sequence of character classes with
  // repeat bounds, matched with backtracking; returns the longest match or 0.
  struct Piece {
    bool (*pred)(char32_t);
    int min, max;
  };
  long seq_len(size_t p, const Piece* ps, size_t n) const {  // -1: no match
    if (n == 0) return 0;
    int k = 0;
    while (k < ps[0].max && ps[0].pred(at(p + k))) ++k;
    long best = -1;
    for (; k >= ps[0].min; --k) {
      long rest = seq_len(p + k, ps + 1, n - 1);
      if (rest >= 0) best = std::max(best, k + rest);
    }
    return best;
  }
  size_t longest_of(size_t p, const std::vector<std::vector<Piece>>& alternatives) const {
    long best = 0;
    for (const auto& a : alternatives) best = std::max(best, seq_len(p, a.data(), a.size()));
    return static_cast<size_t>(best);
  }
  // PHONE = (\(D{2,3}\) SP? | (\+\+?)? (D{2,4} SEP)? D{2,4} SEP) D{3,4} SEP? D{3,5}
  //       | ((\+\+?)? D{2,4} \.)? D{2,4} \. D{3,4} \. D{3,5}        (SEP = [- NBSP], SP = [ NBSP])
  size_t phone_len(size_t p) const {
    static bool (*const D)(char32_t) = is_digit;
    static bool (*const SEP)(char32_t) = [](char32_t c) { return c == '-' || c == ' ' || c == 0xA0; };
    static bool (*const SP)(char32_t) = [](char32_t c) { return c == ' ' || c == 0xA0; };
    static bool (*const PLUS)(char32_t) = [](char32_t c) { return c == '+'; };
    static bool (*const DOT)(char32_t) = [](char32_t c) { return c == '.'; };
    static bool (*const LP)(char32_t) = [](char32_t c) { return c == '('; };
    static bool (*const RP)(char32_t) = [](char32_t c) { return c == ')'; };
    static const std::vector<std::vector<Piece>> alternatives = {
        {{LP, 1, 1}, {D, 2, 3}, {RP, 1, 1}, {SP, 0, 1}, {D, 3, 4}, {SEP, 0, 1}, {D, 3, 5}},
        {{PLUS, 0, 2}, {D, 2, 4}, {SEP, 1, 1}, {D, 2, 4}, {SEP, 1, 1}, {D, 3, 4}, {SEP, 0, 1}, {D, 3, 5}},
        {{PLUS, 0, 2}, {D, 2, 4}, {SEP, 1, 1}, {D, 3, 4}, {SEP, 0, 1}, {D, 3, 5}},
        {{PLUS, 0, 2}, {D, 2, 4}, {DOT, 1, 1}, {D, 2, 4}, {DOT, 1, 1}, {D, 3, 4}, {DOT, 1, 1}, {D, 3, 5}},
        {{D, 2, 4}, {DOT, 1, 1}, {D, 3, 4}, {DOT, 1, 1}, {D, 3, 5}},
    };
    return longest_of(p, alternatives);
  }
  // ASIANSMILEY = [-^x=~<>']_[-^x=~<>'] | \([-^x=~<>'][_.]?[-^x=~<>']\) | \([\^x=~<>']-[\^x=~<>'`]\)
  size_t asian_smiley_len(size_t p) const {
    static bool (*const E)(char32_t) = [](char32_t c) {
      return c == '-' || c == '^' || c == 'x' || c == '=' || c == '~' || c == '<' || c == '>' || c == '\'';
    };
    static bool (*const E2)(char32_t) = [](char32_t c) {
      return c == '^' || c == 'x' || c == '=' || c == '~' || c == '<' || c == '>' || c == '\'';
    };
    static bool (*const E3)(char32_t) = [](char32_t c) { return E2(c) || c == '`'; };
    static bool (*const US)(char32_t) = [](char32_t c) { return c == '_'; };
    static bool (*const USDOT)(char32_t) = [](char32_t c) { return c == '_' || c == '.'; };
    static bool (*const HY)(char32_t) = [](char32_t c) { return c == '-'; };
    static bool (*const LP)(char32_t) = [](char32_t c) { return c == '('; };
    static bool (*const RP)(char32_t) = [](char32_t c) { return c == ')'; };
    static const std::vector<std::vector<Piece>> alternatives = {
        {{E, 1, 1}, {US, 1, 1}, {E, 1, 1}},
        {{LP, 1, 1}, {E, 1, 1}, {USDOT, 0, 1}, {E, 1, 1}, {RP, 1, 1}},
        {{LP, 1, 1}, {E2, 1, 1}, {HY, 1, 1}, {E3, 1, 1}, {RP, 1, 1}},
    };
    return longest_of(p, alternatives);
  }
  // DATE = DIGIT{1,2} [-/] DIGIT{1,2} [-/] DIGIT{2,4}
  size_t date_len(size_t p) const {
    size_t a = run_of(p, is_jdigit);
    if (a < 1 || a > 2) return 0;
    size_t i = p + a;
    if (at(i) != '-' && at(i) != '/') return 0;
    size_t b = run_of(i + 1, is_jdigit);
    if (b < 1 || b > 2) return 0;
    i += 1 + b;
    if (at(i) != '-' && at(i) != '/') return 0;
    size_t d = std::min<size_t>(run_of(i + 1, is_jdigit), 4);
    return d >= 2 ? i + 1 + d - p : 0;
  }
  // LDOTS = \.{3,5} | (\.[ NBSP]){2,4}\. | U+0085 | U+2026
  size_t ldots_len(size_t p) const {
    char32_t c = at(p);
    if (c == 0x85 || c == 0x2026) return 1;
    if (c != '.') return 0;
    size_t best = 0;
    size_t dots = run_of(p, [](char32_t x) { return x == '.'; });
    if (dots >= 3) best = std::min<size_t>(dots, 5);
    size_t pairs = 0;
    while (pairs < 4 && at(p + 2 * pairs) == '.' && (at(p + 2 * pairs + 1) == ' ' || at(p + 2 * pairs + 1) == 0xA0))
      ++pairs;
    for (size_t k = pairs; k >= 2; --k)
      if (at(p + 2 * k) == '.') {
        best = std::max(best, 2 * k + 1);
        break;
      }
    return best;
  }
  // APOWORD alternatives (kept whole): 'n', l', d', 'em, O'Neill, '90s, 'til, vowel'vowel words, ...
  std::vector<size_t> apoword(size_t p) const {
    std::vector<size_t> out;
    char32_t c = at(p);
    if (is_apos(c) && ascii_lower(at(p + 1)) == 'n') out.push_back(is_apos(at(p + 2)) ? 3 : 2);
    if ((c == 'l' || c == 'L' || c == 'd' || c == 'D' || c == 'j' || c == 'J') && is_apos(at(p + 1))) out.push_back(2);
    for (const char* w : {"dunkin", "somethin", "ol"})
      if (size_t n = lit(p, w); n && is_apos(at(p + n))) out.push_back(n + 1);
    if (is_apos(c)) {
      if (lit(p + 1, "em")) out.push_back(3);
      if (in(at(p + 1), '2', '9') && at(p + 2) == '0' && ascii_lower(at(p + 3)) == 's') out.push_back(4);
      if (lit(p + 1, "til")) out.push_back(ascii_lower(at(p + 4)) == 'l' ? 5 : 4);
      if (lit(p + 1, "cause")) out.push_back(6);
    }
    // [A-HJ-XZn] APOSETC [:letter:]{2,}
    if ((in(c, 'A', 'H') || in(c, 'J', 'X') || c == 'Z' || c == 'n') && is_apos_etc(at(p + 1))) {
      size_t n = run_of(p + 2, is_jletter);
      if (n >= 2) out.push_back(2 + n);
    }
    // [:letter:]{2,} ending in a vowel, APOSETC, [aeiouA-Z], letters*
    {
      size_t n = run_of(p, is_jletter);
      auto vowel = [](char32_t x) {
        x = ascii_lower(x);
        return x == 'a' || x == 'e' || x == 'i' || x == 'o' || x == 'u' || x == 'y';
      };
      char32_t after = at(p + n + 1);
      bool after_ok =
          after == 'a' || after == 'e' || after == 'i' || after == 'o' || after == 'u' || in(after, 'A', 'Z');
      if (n >= 2 && vowel(at(p + n - 1)) && is_apos_etc(at(p + n)) && after_ok)
        out.push_back(n + 2 + run_of(p + n + 2, is_jletter));
    }
    for (const char* w :
         {"cont'd.", "cont'd", "'twas", "nor'easter", "c'mon", "e'er", "s'mores", "ev'ry", "li'l", "nat'l"})
      if (size_t n = lit(p, w)) out.push_back(n);
    if (ascii_lower(c) == 'o' && is_apos_etc(at(p + 1)) && ascii_lower(at(p + 2)) == 'o') out.push_back(3);
    return out;
  }
  // ACRONYM followed by spaces and a typical sentence-initial word: the acronym
  // also ends the sentence. A single letter ("I.") loses its period to the next token.
  void acronym_before_sentence_start(size_t p, Scan& s) const {
    size_t n = acro_len(p);
    if (n == 0 || at(p + n) != '.') return;
    size_t i = p + n + 1;
    size_t spaces = run_of(i, is_spacenl);
    if (spaces == 0) return;
    for (const char* wd : kSentenceStarters) {
      size_t k = alt(i + spaces, wd);
      if (k > 0 && is_spacenl(at(i + spaces + k))) {
        size_t len = n + 1;
        if (len == 2)
          s.offer(len + spaces + k + 1, 1, sub(p, 1));
        else
          s.offer(len + spaces + k + 1, len - 1, sub(p, len));
      }
    }
  }
  // SMILEY = [<>]? [:;=] [-o*']? [()DPdpO\\{@|[\]]  followed by [^A-Za-z0-9]; parentheses escaped.
  void smiley(size_t p, Scan& s) const {
    size_t i = p;
    if (at(i) == '<' || at(i) == '>') ++i;
    if (at(i) != ':' && at(i) != ';' && at(i) != '=') return;
    ++i;
    bool nose = at(i) == '-' || at(i) == 'o' || at(i) == '*' || at(i) == '\'';
    if (nose && smiley_mouth(at(i + 1))) ++i;  // the optional nose, when a mouth follows it
    if (!smiley_mouth(at(i))) return;
    ++i;
    if (at(i) == kEnd || is_ascii_alnum(at(i))) return;
    U32 t;
    for (char32_t x : sub(p, i - p)) t += x == '(' ? U32(U"-LRB-") : x == ')' ? U32(U"-RRB-") : U32(1, x);
    s.offer(i - p + 1, i - p, t);
  }
  static bool smiley_mouth(char32_t c) {
    return c == '(' || c == ')' || c == 'D' || c == 'P' || c == 'd' || c == 'p' || c == 'O' || c == '\\' || c == '{' ||
           c == '@' || c == '|' || c == '[' || c == ']';
  }
};

}  // namespace

std::vector<std::vector<std::string>> ptb_tokenize_lines(const std::vector<std::string>& captions) {
  U32 file;
  for (size_t i = 0; i < captions.size(); ++i) {
    if (i) file.push_back('\n');
    U32 c = decode_utf8(captions[i]);
    std::replace(c.begin(), c.end(), char32_t('\n'), char32_t(' '));  // coco: caption.replace('\n', ' ')
    file += c;
  }
  std::vector<std::vector<std::string>> out;
  for (auto& line : Lexer(std::move(file)).run()) {
    out.emplace_back();
    for (U32& t : line) out.back().push_back(encode_utf8(lowercase(t)));  // -lowerCase: on the finished token
  }
  out.resize(captions.size());  // (an empty input list still yields one empty line)
  return out;
}

std::vector<std::string> ptb_tokenize(std::string_view text) { return ptb_tokenize_lines({std::string(text)})[0]; }

bool is_coco_punctuation(std::string_view token) {
  static const std::array<std::string_view, 17> kPunct = {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".",
                                                          "?",  "!", ",",  ":", "-",     "--",    "...",   ";"};
  return std::find(kPunct.begin(), kPunct.end(), token) != kPunct.end();
}

namespace {
std::vector<std::string> drop_punctuation(std::vector<std::string> tokens) {
  tokens.erase(
      std::remove_if(tokens.begin(), tokens.end(), [](const std::string& t) { return is_coco_punctuation(t); }),
      tokens.end());
  return tokens;
}
}  // namespace

std::vector<std::string> caption_tokens(std::string_view caption) { return drop_punctuation(ptb_tokenize(caption)); }

std::vector<std::vector<std::string>> caption_tokens_lines(const std::vector<std::string>& captions) {
  auto lines = ptb_tokenize_lines(captions);
  for (auto& l : lines) l = drop_punctuation(std::move(l));
  return lines;
}

std::string text_normalize(std::string_view caption) {
  std::string out;
  for (const auto& t : caption_tokens(caption)) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

}  // namespace smoes::eval
