/* blank_text.h - the texts that must read as "no visible text" to every
 * judge of a justification or of notes (trailer_text_blank()): Unicode
 * whitespace beyond ASCII, zero-width and invisible characters, controls.
 * Shared by the trailer and policy unit tests so both walk the same list. */
#ifndef TEST_BLANK_TEXT_H
#define TEST_BLANK_TEXT_H

static const struct {
	const char *name;
	const char *text;
} blank_texts[] = {
	{ "U+00A0 no-break space", "\xc2\xa0" },
	{ "U+3000 ideographic space", "\xe3\x80\x80" },
	{ "U+200B zero-width space", "\xe2\x80\x8b" },
	{ "U+200C zero-width non-joiner", "\xe2\x80\x8c" },
	{ "U+200D zero-width joiner", "\xe2\x80\x8d" },
	{ "U+2060 word joiner", "\xe2\x81\xa0" },
	{ "U+FEFF byte order mark", "\xef\xbb\xbf" },
	{ "U+2000 en quad", "\xe2\x80\x80" },
	{ "U+2001 em quad", "\xe2\x80\x81" },
	{ "U+2002 en space", "\xe2\x80\x82" },
	{ "U+2003 em space", "\xe2\x80\x83" },
	{ "U+2004 three-per-em space", "\xe2\x80\x84" },
	{ "U+2005 four-per-em space", "\xe2\x80\x85" },
	{ "U+2006 six-per-em space", "\xe2\x80\x86" },
	{ "U+2007 figure space", "\xe2\x80\x87" },
	{ "U+2008 punctuation space", "\xe2\x80\x88" },
	{ "U+2009 thin space", "\xe2\x80\x89" },
	{ "U+200A hair space", "\xe2\x80\x8a" },
	{ "U+202F narrow no-break space", "\xe2\x80\xaf" },
	{ "U+205F medium mathematical space", "\xe2\x81\x9f" },
	{ "U+1680 ogham space mark", "\xe1\x9a\x80" },
	{ "U+0085 next line", "\xc2\x85" },
	{ "U+2028 line separator", "\xe2\x80\xa8" },
	{ "U+2029 paragraph separator", "\xe2\x80\xa9" },
	{ "U+200E left-to-right mark", "\xe2\x80\x8e" },
	{ "U+202E right-to-left override", "\xe2\x80\xae" },
	{ "U+2066 left-to-right isolate", "\xe2\x81\xa6" },
	{ "U+00AD soft hyphen", "\xc2\xad" },
	{ "U+3164 Hangul filler", "\xe3\x85\xa4" },
	{ "U+FE0F variation selector", "\xef\xb8\x8f" },
	{ "U+E0020 tag space", "\xf3\xa0\x80\xa0" },
	{ "U+2800 braille blank", "\xe2\xa0\x80" },
	{ "U+0007 bell", "\x07" },
	{ "U+000B vertical tab", "\x0b" },
	{ "U+000C form feed", "\x0c" },
	{ "U+001B escape", "\x1b" },
	{ "U+007F delete", "\x7f" },
	{ "U+009B C1 CSI", "\xc2\x9b" },
	{ "a mix", "\xc2\xa0\xe3\x80\x80 \xe2\x80\x8b\xef\xbb\xbf\xe2\x80\x83" },
	{ "invalid UTF-8", "\xff\xfe" },
	{ "an overlong space", "\xc0\xa0" },
	{ "a lone continuation byte", "\x80" },
	{ "an encoded surrogate", "\xed\xa0\x80" },
};

#endif
