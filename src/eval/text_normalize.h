// Caption tokenisation exactly as the COCO caption toolkit (tylin/coco-caption)
// does it before BLEU / ROUGE-L / CIDEr-D: Stanford PTBTokenizer 3.4.1 run
// with `-preserveLines -lowerCase`, then the toolkit drops its list of
// punctuation tokens. We re-implement the tokenizer's rules (no Java); the
// rules covered and the known gaps are listed in docs/metrics.md.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace smoes::eval {

// PTBTokenizer 3.4.1 tokens of one caption (UTF-8), lowercased, before
// punctuation removal: "A man's (red) hat." -> a man 's -lrb- red -rrb- hat .
// The caption is tokenised as a one-line file.
std::vector<std::string> ptb_tokenize(std::string_view text);

// Tokenises captions the way coco-caption does in one call: written one per
// line ('\n' inside a caption becomes ' ') and scanned as one file, so a
// caption's last token can depend on the next caption (e.g. "u.s." before a
// line starting "The" also yields a "." token; "the letter a." before "A ..."
// yields "a" "."). One token list per caption.
std::vector<std::vector<std::string>> ptb_tokenize_lines(const std::vector<std::string>& captions);

// True for the tokens coco-caption removes after tokenising:
// '' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;
// (Upper-case -LRB- etc. never match: the tokenizer has lowercased them.)
bool is_coco_punctuation(std::string_view token);

// ptb_tokenize() minus the coco punctuation tokens: what every caption metric sees.
std::vector<std::string> caption_tokens(std::string_view caption);
// ptb_tokenize_lines() minus the coco punctuation tokens.
std::vector<std::vector<std::string>> caption_tokens_lines(const std::vector<std::string>& captions);

// caption_tokens() joined by single spaces: the string coco-caption hands its scorers.
std::string text_normalize(std::string_view caption);

}  // namespace smoes::eval
