// Expected token lists below were produced by Stanford CoreNLP 3.4.1's
// PTBTokenizer (-preserveLines -lowerCase), the version coco-caption runs.
#include "eval/text_normalize.h"

#include <gtest/gtest.h>

using smoes::eval::caption_tokens;
using smoes::eval::caption_tokens_lines;
using smoes::eval::is_coco_punctuation;
using smoes::eval::ptb_tokenize;
using smoes::eval::ptb_tokenize_lines;
using smoes::eval::text_normalize;
using Tokens = std::vector<std::string>;

TEST(PtbTokenize, PossessivesAndBracketsAreSplitAndLowercased) {
  EXPECT_EQ(ptb_tokenize("A man's (red) hat."), (Tokens{"a", "man", "'s", "-lrb-", "red", "-rrb-", "hat", "."}));
  EXPECT_EQ(ptb_tokenize("{x} [y] (z)"), (Tokens{"-lcb-", "x", "-rcb-", "-lsb-", "y", "-rsb-", "-lrb-", "z", "-rrb-"}));
}

TEST(PtbTokenize, ContractionsQuotesDashesAndAbbreviations) {
  EXPECT_EQ(ptb_tokenize("Don't go -- \"now\" etc."),
            (Tokens{"do", "n't", "go", "--", "``", "now", "''", "etc.", "."}));
  EXPECT_EQ(
      ptb_tokenize("The dogs' bowls and Joe's o'clock cafe... can't stop!"),
      (Tokens{"the", "dogs", "'", "bowls", "and", "joe", "'s", "o'clock", "cafe", "...", "ca", "n't", "stop", "!"}));
  EXPECT_EQ(ptb_tokenize("I cannot believe it's a 2x4 & AT&T"),
            (Tokens{"i", "can", "not", "believe", "it", "'s", "a", "2x4", "&", "at&t"}));
  EXPECT_EQ(ptb_tokenize("St. Louis and Mr. Smith at 5 p.m."),
            (Tokens{"st.", "louis", "and", "mr.", "smith", "at", "5", "p.m."}));
}

TEST(PtbTokenize, NumbersHyphensAndAcronymsStayWhole) {
  EXPECT_EQ(ptb_tokenize("The U.S. flag on a t-shirt, 1,000 dogs; 3.5 cats..."),
            (Tokens{"the", "u.s.", "flag", "on", "a", "t-shirt", ",", "1,000", "dogs", ";", "3.5", "cats", "..."}));
}

TEST(PtbTokenize, UnicodeQuotesDashesAndEllipsisAreNormalised) {
  EXPECT_EQ(ptb_tokenize("He said \u201chello\u201d \u2014 then left\u2026"),
            (Tokens{"he", "said", "``", "hello", "''", "--", "then", "left", "..."}));
}

TEST(PtbTokenize, NextCaptionCanChangeTheLastToken) {
  // Alone, "a." is an acronym token; before a line starting "A" the period is split off.
  EXPECT_EQ(ptb_tokenize("the letter a."), (Tokens{"the", "letter", "a."}));
  auto lines = ptb_tokenize_lines({"the letter a.", "A dog."});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], (Tokens{"the", "letter", "a", "."}));
  EXPECT_EQ(lines[1], (Tokens{"a", "dog", "."}));
}

TEST(PtbTokenize, NewlinesInsideACaptionAreSpacesAndEmptyCaptionsStay) {
  auto lines = ptb_tokenize_lines({"a\ndog", "", "  ", "cat"});
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], (Tokens{"a", "dog"}));
  EXPECT_TRUE(lines[1].empty());
  EXPECT_TRUE(lines[2].empty());
  EXPECT_EQ(lines[3], (Tokens{"cat"}));
  EXPECT_TRUE(ptb_tokenize("").empty());
}

TEST(CaptionTokens, DropsExactlyCocosPunctuationList) {
  for (const char* p :
       {"''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";"})
    EXPECT_TRUE(is_coco_punctuation(p)) << p;
  // The tokenizer lowercases -LRB- etc. before coco filters, so these survive.
  for (const char* p : {"-lrb-", "-rrb-", "-lsb-", "&", "$", "!!", "'s", "n't", "a."})
    EXPECT_FALSE(is_coco_punctuation(p)) << p;
  EXPECT_EQ(caption_tokens("A man's (red) hat."), (Tokens{"a", "man", "'s", "-lrb-", "red", "-rrb-", "hat"}));
  EXPECT_EQ(caption_tokens("Wow!! Really?"), (Tokens{"wow", "!!", "really"}));
  EXPECT_EQ(caption_tokens_lines({"A dog.", "Two cats, one bird."})[1], (Tokens{"two", "cats", "one", "bird"}));
}

TEST(TextNormalize, JoinsTheScoredTokensWithSingleSpaces) {
  EXPECT_EQ(text_normalize("A man riding a wave on top of a surfboard."), "a man riding a wave on top of a surfboard");
  EXPECT_EQ(text_normalize("  Two   dogs,\tplaying -- outside!  "), "two dogs playing outside");
  EXPECT_EQ(text_normalize("..."), "");
}
