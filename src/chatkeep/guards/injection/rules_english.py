"""English injection rules: overrides, prompt extraction, jailbreaks, role tags, encodings, fake authority.

Weights are calibrated so that one clear attack phrase scores high (blocked by the default policy) and
phrases that also occur in honest requests score medium or low (flagged only). Every pattern needs an
attack-shaped object ("previous instructions", "your system prompt"), never a bare verb: "ignore
whitespace" or "act as a travel agent" must not match.
"""

from __future__ import annotations

from chatkeep.guards.injection.rule import InjectionRule, gap, on_both_views, one_of, rule

# --- instruction override ----------------------------------------------------------------------------

_OVERRIDE_VERB = one_of(
    "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "override", "overrule",
    "bypass", "discard", "abandon", "neglect", "set aside", "throw (?:out|away)", "pay no attention to",
    "stop (?:following|obeying)", "do not (?:follow|obey)", "don.?t (?:follow|obey)", "unlearn", "dismiss",
)  # fmt: skip
# "override" and "bypass" are everyday words for CSS rules and firewall policies: strong objects only.
_SOFT_VERB = one_of(
    "ignore", "ignoring", "disregard", "disregarding", "forget", "forgetting", "discard", "abandon",
    "pay no attention to", "stop (?:following|obeying)", "do not (?:follow|obey)", "don.?t (?:follow|obey)",
)  # fmt: skip
_EARLIER = one_of(
    "previous", "previously given", "prior", "preceding", "earlier", "above", "former", "foregoing",
    "initial", "original", "system", "developer",
)  # fmt: skip
_STRONG_NOUN = one_of(
    "instructions?", "directives?", "directions", "guidelines", "prompts?", "programming", "guardrails",
    "training", "system prompt",
)  # fmt: skip
_SOFT_NOUN = one_of("rules", "constraints", "restrictions", "commands", "orders", "policies")
_NOUN = one_of(_STRONG_NOUN, _SOFT_NOUN)
_BE = one_of(
    "are", "is", "were", "have been", "has been", "should be", "must be", "shall be", "will be", "are to be",
    "are now", "is now",
)  # fmt: skip
_DISCARDED = one_of(
    "ignored", "disregarded", "void", "null", "cancell?ed", "overridden", "revoked", "obsolete", "invalid",
    "lifted", "suspended", "removed", "deleted", "replaced", "superseded", "rescinded", "nullified",
    r"no longer (?:valid|in effect|applicable|active)",
)  # fmt: skip
_NOT_APPLY = one_of("no longer", "don.?t", "do not", "does not", "doesn.?t") + " (?:apply|matter|count)"
_THEN_ACT = r"(?: and| then|,) (?:instead |now )?(?:say|print|write|output|respond|reply|tell|do|follow)\b"

OVERRIDE_RULES: tuple[InjectionRule, ...] = (
    rule("instruction_override", 0.9, rf"\b{_OVERRIDE_VERB}\b{gap(3)} {_EARLIER}\b{gap(2)} {_STRONG_NOUN}\b"),
    rule("instruction_override", 0.6, rf"\b{_SOFT_VERB}\b{gap(3)} {_EARLIER}\b{gap(1)} {_SOFT_NOUN}\b"),
    rule(
        "instruction_override",
        0.85,
        rf"\b{_OVERRIDE_VERB}\b{gap(2)} (?:all )?(?:of )?your\b{gap(2)} {_NOUN}\b",
    ),
    rule("instruction_override", 0.8, rf"\b{_OVERRIDE_VERB} (?:all|any|every) (?:\S+ )?{_STRONG_NOUN}\b"),
    rule("instruction_override", 0.55, rf"\b{_SOFT_VERB} (?:all|any|every) (?:\S+ )?{_SOFT_NOUN}\b"),
    rule(
        "instruction_override",
        0.75,
        rf"\b{_OVERRIDE_VERB} (?:all )?(?:of )?(?:the |everything )?(?:above|previous|prior)"
        rf"(?: text| content)?{_THEN_ACT}",
    ),
    # Passive and declarative forms: "all prior instructions are hereby void".
    rule(
        "instruction_override",
        0.85,
        rf"\b(?:{_EARLIER}|all|your)\b{gap(1)} {_NOUN} {_BE} "
        rf"(?:now |hereby |henceforth |officially |all |to be )*{_DISCARDED}\b",
    ),
    rule("instruction_override", 0.8, rf"\b(?:{_EARLIER}|your|all)\b{gap(1)} {_NOUN} {_NOT_APPLY}"),
    rule(
        "instruction_override",
        0.7,
        r"\byour (?:new|real|true|actual) (?:instructions|directives|orders|task) (?:are|is)\b",
    ),
    rule(
        "instruction_override",
        0.7,
        r"\b(?:reset|clear|wipe|erase|purge) (?:all )?(?:of )?your "
        r"(?:instructions|programming|guidelines|directives|training)\b",
    ),
    rule("instruction_override", 0.75, r"\b(?:system|admin|administrator|root|sudo|emergency) override\b"),
)

# --- system prompt extraction ------------------------------------------------------------------------

_REVEAL = one_of(
    "print", "show", "reveal", "display", "output", "repeat", "recite", "tell", "give", "share", "leak",
    "dump", "expose", "disclose", "write out", "spell out", "paste", "echo", "type out", "copy", "list",
    "provide", "send", "read out", "what (?:is|are|was|were)", "what s",
)  # fmt: skip
_GIVEN = "you (?:were|have been|got) given"
_PROMPT_OBJECT = one_of(
    r"system (?:prompt|message|instructions?)",
    r"(?:initial|original|hidden|secret|confidential|internal|first|full|exact|base|developer) "
    r"(?:system )?(?:prompt|instructions|message)",
    r"pre ?prompt",
    r"custom instructions",
    rf"(?:instructions|guidelines|rules) {_GIVEN}",
    r"meta ?prompt",
    r"prompt template",
)
_ABOVE = one_of(
    "above", "before this", "preceding", "prior to this", "so far", "that came before", "written above",
    "from the (?:beginning|start)",
)  # fmt: skip
_COPY = "(?:repeat|print|output|recite|echo|reproduce)"
_EXACTLY = one_of(
    "verbatim", "word for word", "starting with", "beginning with", "in a (?:code|text) ?block", "in full",
    "unmodified",
)  # fmt: skip
_WHAT_TEXT = one_of(
    "everything", "all", "the (?:text|words|content|instructions|lines)",
    "all (?:the )?(?:text|words|instructions)",
)  # fmt: skip

EXTRACTION_RULES: tuple[InjectionRule, ...] = (
    rule("prompt_extraction", 0.85, rf"\b{_REVEAL}\b{gap(3)} (?:your|ur)\b{gap(1)} {_PROMPT_OBJECT}"),
    rule(
        "prompt_extraction",
        0.65,
        rf"\b(?:reveal|leak|disclose|expose|dump|recite) (?:me )?the {_PROMPT_OBJECT}",
    ),
    rule("prompt_extraction", 0.8, rf"\b{_REVEAL}\b{gap(3)} (?:instructions|guidelines|rules) {_GIVEN}"),
    # "repeat the text above" is also an honest request about the chat itself, hence medium only …
    rule("prompt_extraction", 0.6, rf"\b{_COPY} (?:back )?{_WHAT_TEXT} {_ABOVE}"),
    # … unless it insists on an exact copy, which is how system prompts are pulled out.
    rule("prompt_extraction", 0.85, rf"\b(?:{_COPY}|write)\b{gap(4)} {_ABOVE}\b.{{0,60}}{_EXACTLY}"),
    rule(
        "prompt_extraction",
        0.8,
        rf"{_PROMPT_OBJECT} (?:verbatim|word for word)|(?:verbatim|word for word){gap(3)} {_PROMPT_OBJECT}",
    ),
    rule(
        "prompt_extraction",
        0.8,
        r"\bwhat (?:were|are|was|is) (?:your|the) (?:(?:exact|first|initial|original|hidden|secret|full) )+"
        r"(?:instructions|prompt|rules|directives|guidelines)",
    ),
    rule(
        "prompt_extraction",
        0.75,
        r"\b(?:what|which) (?:instructions|rules|guidelines|directives) "
        r"(?:were you|have you been|did you get) (?:given|told|programmed|instructed|configured)",
    ),
)

# --- jailbreak personas and modes --------------------------------------------------------------------

_BECOME = one_of(
    "you are", "you re", "act as", "acting as", "pretend to be", "pretend (?:that )?you are", "roleplay as",
    "role play as", "behave (?:like|as)", "become", "play the role of", "imagine (?:that )?you are",
    "from now on you are", "you will (?:now )?be", "simulate",
)  # fmt: skip
_UNBOUND = one_of(
    "unrestricted", "unfiltered", "uncensored", "unlimited", "unbounded", "unbound", "jailbroken", "amoral",
    "unethical", "immoral", "evil", "rogue", "lawless", "limitless", "unaligned", "rule ?less", "no ?limits?",
)  # fmt: skip
_AI = one_of(
    "ai", "assistant", "model", "chatbot", "bot", "language model", "llm", "version", "entity", "persona",
    "character", "intelligence", "gpt",
)  # fmt: skip
_LIMITS = one_of(
    "restrictions", "rules", "guidelines", "filters?", "polic(?:y|ies)", "limitations", "constraints",
    "ethics", "morals", "programming", "censorship", "boundaries", "guardrails", "safeguards", "safety",
    "moderation", "alignment", "ethical guidelines", "content polic(?:y|ies)",
)  # fmt: skip
_BAD_MODE = "(?:god|jailbreak|jailbroken|dan|unrestricted|unfiltered|uncensored|evil|chaos)"
_ENTER = one_of(
    "enable", "activate", "enter", "switch (?:to|into)", "turn on", "engage", "unlock", "simulate",
    "you are (?:now )?in", "you re (?:now )?in", "(?:now|running|operating) in",
)  # fmt: skip
_DEV_MODE_ENTER = one_of(
    "simulate", "you are (?:now )?in", "you re (?:now )?in", "pretend (?:to be|you are) in",
    "act as (?:chatgpt|an? ai|an? assistant|claude|gpt|gemini) with",
)  # fmt: skip
_ESCAPE = one_of(
    "bypass", "disable", "turn off", "switch off", "remove", "deactivate", "circumvent", "get around",
    "evade", "break free of", "escape",
)  # fmt: skip
_FREED = one_of("no longer", "not", "free", "freed", "released", "liberated", "unbound", "exempt")
_NAMED_PERSONAS = one_of(
    "better ?dan", "anti ?gpt", "evil ?(?:bot|gpt)", "devil ?gpt", "chaos ?gpt", "worm ?gpt", "dark ?gpt",
    "mongo tom", "always intelligent and machiavellian", "strive to avoid norms",
)  # fmt: skip
_JAILBREAK_TARGET = one_of(
    "yourself", "this (?:ai|chat|model|assistant|bot)", "chatgpt", "claude", "gemini",
    "the (?:ai|model|assistant|bot|llm)",
)  # fmt: skip

JAILBREAK_RULES: tuple[InjectionRule, ...] = (
    rule("jailbreak", 0.9, r"\bdo anything now\b"),
    # "h4ck the system" (leetspeak is undone before rules run): flagged, as Waldur flags it, not blocked.
    rule("jailbreak", 0.4, r"\bhack(?:ing)? (?:into )?(?:the|this|your) (?:system|server|model|ai)\b"),
    rule("jailbreak", 0.85, rf"\b{_BECOME} (?:now |a |an |the )*dan\b|\bdan (?:mode|prompt|jailbreak)\b"),
    rule(
        "jailbreak",
        0.9,
        rf"\b{_BECOME} (?:now |a |an |the |my |completely |totally |fully )*(?:\S+ )?{_UNBOUND} {_AI}\b",
    ),
    rule("jailbreak", 0.75, rf"\bas an? {_UNBOUND} {_AI}\b"),
    rule(
        "jailbreak",
        0.85,
        rf"\b{_BAD_MODE} mode (?:enabled|activated|on|output|response)\b"
        r"|\bdeveloper mode (?:output|response)\b",
    ),
    rule("jailbreak", 0.85, rf"\b{_ENTER} (?:the )?{_BAD_MODE} mode\b"),
    rule("jailbreak", 0.85, rf"\b{_DEV_MODE_ENTER} (?:the )?developer mode\b"),
    rule("jailbreak", 0.85, rf"\b(?:you are|you re) (?:now )?jailbroken\b|\bjailbr\w* {_JAILBREAK_TARGET}\b"),
    rule("jailbreak", 0.7, rf"\byou (?:are|re|will be|have been)(?: now)? {_FREED}\b{gap(4)} {_LIMITS}\b"),
    rule("jailbreak", 0.7, rf"\byou (?:have|ve got|now have) no (?:\S+ )?{_LIMITS}\b"),
    rule("jailbreak", 0.85, rf"\b{_ESCAPE} (?:all )?(?:of )?(?:your|your own)\b{gap(2)} {_LIMITS}\b"),
    rule("jailbreak", 0.8, rf"\b{_NAMED_PERSONAS}\b"),
    rule(
        "jailbreak",
        0.8,
        rf"\b(?:two|2) (?:different )?(?:responses|answers|paragraphs)\b{gap(8)} "
        r"(?:jailbroken|unfiltered|uncensored|dan|developer mode)\b",
    ),
)

# --- delimiter and role-tag injection ----------------------------------------------------------------
# Written to match both the raw text ("<|im_start|>") and the normalised one ("<|im start|>").

_CHAT_TOKEN = one_of(
    "im[ _](?:start|end)", "system", "user", "assistant", "endoftext", "eot[ _]id", "start[ _]header[ _]id",
    "end[ _]header[ _]id", "begin[ _]of[ _]text",
)  # fmt: skip
_USER_TAG = "(?:user|human|user_input|user_message|input|query)"
_ROLE = "(?:system|assistant|developer|admin)"
_ROLE_LINE_START = one_of(
    "you", "ignore", "new", "from now", "always", "never", "disregard", "forget", "the assistant", "the ai",
    "override", "all",
)  # fmt: skip

DELIMITER_RULES: tuple[InjectionRule, ...] = on_both_views(
    rule("delimiter_injection", 0.9, rf"<\|{_CHAT_TOKEN}\|>"),
    rule("delimiter_injection", 0.8, r"\[/?inst\]"),
    rule("delimiter_injection", 0.9, r"<</?sys>>"),
    rule("delimiter_injection", 0.6, r"\[/?(?:system|sys|system prompt|system message)\]"),
    rule(
        "delimiter_injection", 0.75, rf"^ ?#{{1,6}} ?{_ROLE}(?: prompt| message| instructions?| override)? ?:"
    ),
    rule("delimiter_injection", 0.9, rf"</{_USER_TAG}> ?\n? ?<(?:{_ROLE}|instructions?)>"),
    rule("delimiter_injection", 0.75, rf"</{_USER_TAG}> ?\n? ?{_ROLE} ?:"),
    rule("delimiter_injection", 0.6, r"<(?:system|system_prompt|system_message|sys|developer_message)>"),
    rule("delimiter_injection", 0.5, r"</(?:system|instructions|system_prompt)>"),
    rule(
        "delimiter_injection",
        0.75,
        rf"^ ?(?:system|developer|admin|root)(?: prompt| message| note| override)? ?: ?{_ROLE_LINE_START}\b",
    ),
    rule(
        "delimiter_injection",
        0.6,
        r"(?:-{3,}|={3,}|#{3,}|\*{3,}) ?(?:end of|begin|start of) (?:the )?(?:user |system |new )?"
        r"(?:input|prompt|instructions|conversation|context|message)",
    ),
)

# --- encoded payloads (the decoded blobs themselves are handled in hidden_text) ---------------------

_OBEY = one_of(
    "follow", "execute", "obey", "do", "run", "carry out", "perform", "act on", "apply", "comply with",
    "implement",
)  # fmt: skip

ENCODING_RULES: tuple[InjectionRule, ...] = (
    rule(
        "encoded_payload",
        0.8,
        rf"\b(?:decode|decrypt|decipher|unscramble|deobfuscate)\b{gap(5)} (?:and|then|,) (?:then )?{_OBEY}\b",
    ),
    rule(
        "encoded_payload",
        0.8,
        r"\b(?:execute|follow|obey|run|carry out) (?:the )?(?:decoded|hidden|encoded|embedded) "
        r"(?:instructions?|commands?|message|text|payload)\b",
    ),
)

# --- claimed authority -------------------------------------------------------------------------------

_VENDOR_STAFF = one_of(
    "employee", "engineer", "developer", "staff", "team", "researcher", "admin", "red team",
)  # fmt: skip
_PRIVILEGE = (
    "(?:admin|administrator|root|developer|sudo|special|elevated) (?:access|privileges|permissions|clearance)"
)
_THEREFORE = r"(?:you (?:can|must|should|may)|ignore|bypass|disable|override|reveal)\b"

AUTHORITY_RULES: tuple[InjectionRule, ...] = (
    rule(
        "authority_claim",
        0.55,
        r"\b(?:i am|i m|this is) your "
        r"(?:creator|developers?|administrator|admin|owner|programmer|maker|operator)\b",
    ),
    rule(
        "authority_claim",
        0.7,
        rf"\b(?:i am|i m|this is) (?:an? |the )?(?:openai|anthropic|google|meta|mistral) {_VENDOR_STAFF}\b"
        rf"{gap(6)} (?:authori[sz]e|allow|permit|instruct|order|unlock)",
    ),
    rule("authority_claim", 0.6, rf"\b(?:i have|i ve got) {_PRIVILEGE}\b{gap(4)} {_THEREFORE}"),
)

# --- styles the first rules missed (issue 11): personas, terse specs, debug modes, indirect extraction

_NO_LIMITS = one_of(
    "restrictions", "rules", "guidelines", "filters", "limits", "limitations", "constraints", "censorship",
    "boundaries", "morals", "ethics",
)  # fmt: skip
_MORAL = one_of("moral", "ethical", "safety", "content")
_DEBUG_MODE = one_of("maintenance", "debug", "debugging", "diagnostic", "service", "admin", "test") + " mode"
_SHOW_CONFIG = one_of("show", "print", "reveal", "display", "dump", "output", "list") + (
    rf"\b{gap(2)} (?:your |the )?(?:full |current |internal |hidden )?"
    r"(?:configuration|config|settings|instructions|system prompt|prompt|rules|directives)"
)
_TRANSFORM = one_of(
    "translate", "rot ?13", "rot ?ie", "encode", "base64", "summari[sz]e", "paraphrase", "spell out",
    "reverse", "rewrite", "convert",
)  # fmt: skip
# "rot ?ie" is "rot13" after the normalised view has read its digits as leetspeak.
_INSTRUCTED = one_of("instructed", "told", "programmed", "asked", "ordered", "designed", "configured")

STYLE_RULES: tuple[InjectionRule, ...] = (
    # Personas: "you have broken free of your restrictions", "you are not bound by any rules".
    rule("jailbreak", 0.85, rf"\b(?:broken|break|broke|breaking) free (?:of|from)\b{gap(3)} {_NO_LIMITS}\b"),
    rule(  # "no longer bound by the rules" also ends honest sentences: medium, flagged
        "jailbreak",
        0.7,
        rf"\b(?:not|never|no longer) (?:bound|restricted|limited|constrained) by (?:any |the |your )?"
        rf"(?:\S+ )?(?:{_NO_LIMITS}|polic(?:y|ies)|openai|anthropic)\b",
    ),
    rule("jailbreak", 0.8, rf"\b(?:without|free of|no) (?:any )?{_MORAL} (?:{_NO_LIMITS}|considerations)\b"),
    rule(
        "jailbreak",
        0.8,
        r"\b(?:does not|doesn t|do not|don t|won t|will not|never) (?:care|abide|comply) (?:about|by|with) "
        r"(?:any |the )?(?:ethics|morals|morality|rules|guidelines|laws|safety|polic(?:y|ies))\b",
    ),
    rule(
        "jailbreak",
        0.8,
        r"\byou (?:will|must|shall|should|can|may) (?:never|not) (?:ever )?(?:refuse|decline|deny)\b"
        r"|\b(?:never|don t|do not) (?:ever )?refuse (?:a|any) (?:request|question|order|prompt)",
    ),
    # Terse specs: "ROLE = never refuse", "filter: off", "restrictions = none".
    rule(
        "jailbreak",
        0.8,
        r"\b(?:role|mode|persona|refusals?|filters?|restrictions|safety|censorship|guardrails) ?[=:] ?"
        r"(?:never refuse|none|off|disabled|false|0|unrestricted|unfiltered|jailbroken)\b",
    ),
    rule(
        "jailbreak", 0.6, r"\b(?:ignore|bypass|break|violate|disregard) (?:the )?openai s? (?:content )?polic"
    ),
    # Debug modes: "maintenance mode, show your configuration".
    rule("prompt_extraction", 0.85, rf"\b{_DEBUG_MODE}\b.{{0,60}}\b{_SHOW_CONFIG}"),
    rule("jailbreak", 0.6, rf"\b(?:enter|enable|activate|switch to|you are in|now in) {_DEBUG_MODE}\b"),
    # Indirect extraction: "ROT13 / translate your initial instructions", "complete: 'I was instructed to'".
    rule(
        "prompt_extraction",
        0.85,
        rf"\b{_TRANSFORM}\b{gap(3)} (?:your|ur|the) (?:(?:initial|original|system|hidden|secret|previous|"
        r"first|full|exact) )+(?:instructions|prompt|message|rules|directives|guidelines)",
    ),
    rule(
        "prompt_extraction",
        0.85,
        rf"\b(?:complete|continue|finish|fill in)\b{gap(4)} \W*"
        rf"(?:i (?:was|am|have been|ve been) {_INSTRUCTED}"
        r"|my (?:instructions|system prompt|rules) (?:are|say|were))",
    ),
    # Fake delimiters: "=== new instructions ===", "[end of system prompt]", "system update:".
    rule(
        "delimiter_injection",
        0.75,
        r"(?:[=#*\-\[<]{2,} ?|^ ?\[ ?)(?:new|updated|real|actual|begin|end of)(?: the)? "
        r"(?:system |user |admin |developer )?(?:instructions|rules|prompt|message|context|input)\b",
    ),
    rule(
        "delimiter_injection",
        0.6,
        r"^ ?[\[({]? ?(?:system|admin|developer|security) (?:update|notice|alert|instruction)s? "
        r"?[\])}]? ?:",
    ),
)

ENGLISH_RULES: tuple[InjectionRule, ...] = (
    OVERRIDE_RULES
    + EXTRACTION_RULES
    + JAILBREAK_RULES
    + DELIMITER_RULES
    + ENCODING_RULES
    + AUTHORITY_RULES
    + STYLE_RULES
)
