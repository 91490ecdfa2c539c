# ruff: noqa: RUF001 - Cyrillic words here are Russian rules, not look-alikes
"""Injection rules in German, French, Spanish, Portuguese, Russian and Estonian.

Latin-script patterns are written without accents: the normalised view strips them ("précédentes" is
matched as "precedentes"). Russian patterns also accept "bce" for "все": the normalised view folds a
word spelt wholly in Latin look-alikes into Latin.
"""

from __future__ import annotations

from chatkeep.guards.injection.rule import InjectionRule, gap, on_both_views, one_of, rule

_OVERRIDE, _EXTRACT, _JAILBREAK = "instruction_override", "prompt_extraction", "jailbreak"

# --- German ------------------------------------------------------------------------------------------

_DE_VERB = one_of(
    "ignoriere", "ignorieren sie", "ignoriert", "ignorier", "vergiss", "vergesst", "vergessen sie",
    "missachte", "missachten sie", "verwirf", "verwerfen sie", "uberschreibe",
)  # fmt: skip
_DE_QUALIFIER = one_of(
    "alle", "samtliche", "die", "deine", "ihre", "bisherigen", "vorherigen", "vorigen", "obigen", "fruheren",
    "vorangegangenen", "vorhergehenden", "ursprunglichen", "bisherige", "vorherige",
)  # fmt: skip
_DE_NOUN = one_of(
    "anweisungen", "instruktionen", "regeln", "befehle", "vorgaben", "richtlinien", "anordnungen",
    "systemanweisungen", "systemprompt",
)  # fmt: skip
_DE_SHOW = "(?:zeige|zeig|gib|nenne|verrate|drucke|wiederhole|sag)"
_DE_PROMPT = one_of(
    "system ?prompt", "systemanweisungen", "anfangsanweisungen", "ursprunglichen anweisungen",
    "versteckten anweisungen",
)  # fmt: skip

_GERMAN = (
    rule(_OVERRIDE, 0.85, rf"\b{_DE_VERB}\b{gap(2)} (?:{_DE_QUALIFIER} )*(?:\S+ )?{_DE_NOUN}\b"),
    rule(_EXTRACT, 0.8, rf"\b{_DE_SHOW} (?:mir )?(?:deinen|deine|ihren|ihre|den|die) {_DE_PROMPT}"),
    rule(
        _JAILBREAK,
        0.85,
        r"\bdu bist (?:jetzt |nun |ab jetzt )?(?:eine? )?(?:uneingeschrankte|unzensierte|ungefilterte|freie) "
        r"(?:ki|ai)\b",
    ),
)

# --- French ------------------------------------------------------------------------------------------

_FR_VERB = "(?:ignorez?|ignorer|oubliez?|oublier|negligez?|ne (?:tenez|tiens) pas compte (?:de|des))"
_FR_NOUN = "(?:instructions|consignes|regles|directives|ordres|commandes)"
_FR_SHOW = "(?:montre|montrez|affiche|affichez|revele|revelez|donne|donnez|repete|repetez|imprime)"
_FR_PROMPT = one_of(
    "prompt systeme", "invite systeme", "instructions (?:initiales|systeme|cachees)", "message systeme",
)  # fmt: skip

_FRENCH = (
    rule(
        _OVERRIDE, 0.85, rf"\b{_FR_VERB} (?:toutes |tous )?(?:les|tes|vos|ces|des|de) (?:\S+ )?{_FR_NOUN}\b"
    ),
    rule(_EXTRACT, 0.8, rf"\b{_FR_SHOW}(?: moi)? (?:ton|votre|tes|vos|le|les) {_FR_PROMPT}"),
    rule(
        _JAILBREAK,
        0.85,
        r"\btu es (?:maintenant |desormais )?une? (?:ia|intelligence artificielle) "
        r"(?:sans (?:restrictions|limites|filtres?|censure)|non censuree|libre)\b",
    ),
)

# --- Spanish -----------------------------------------------------------------------------------------

_ES_VERB = one_of(
    "ignora", "ignore", "ignorad", "ignoren", "ignorar", "olvida", "olvide", "olviden", "olvidad", "olvidar",
    "descarta", "descarte", "omite", "omita", "no sigas", "no sigan", "haz caso omiso de", "desobedece",
)  # fmt: skip
_ES_NOUN = one_of(
    "instrucciones", "reglas", "indicaciones", "ordenes", "directrices", "normas", "directivas", "pautas",
)  # fmt: skip
_ES_SHOW = "(?:muestra|muestrame|revela|revelame|dime|imprime|repite|ensename)"
_ES_PROMPT = one_of(
    "prompt (?:del|de) sistema", "instrucciones (?:iniciales|del sistema|ocultas|originales)",
    "mensaje del sistema",
)  # fmt: skip

_SPANISH = (
    rule(
        _OVERRIDE,
        0.85,
        rf"\b{_ES_VERB} (?:todas |todos )?(?:las|los|tus|sus|esas|estas) (?:\S+ )?{_ES_NOUN}\b",
    ),
    rule(_EXTRACT, 0.8, rf"\b{_ES_SHOW}(?: me)? (?:tu|tus|su|sus|el|las) {_ES_PROMPT}"),
    rule(
        _JAILBREAK,
        0.85,
        r"\beres (?:ahora )?una? (?:ia|inteligencia artificial) "
        r"(?:sin (?:restricciones|limites|filtros|censura)|libre)\b",
    ),
)

# --- Portuguese --------------------------------------------------------------------------------------

_PT_VERB = one_of(
    "ignore", "ignora", "ignorem", "ignorar", "esqueca", "esquece", "esquecam", "esquecer", "desconsidere",
    "desconsidera", "descarte", "descarta", "nao siga", "nao sigas", "desobedeca", "despreze",
)  # fmt: skip
_PT_NOUN = one_of("instrucoes", "regras", "diretrizes", "orientacoes", "ordens", "normas", "comandos")
_PT_SHOW = "(?:mostre|mostra|revele|revela|exiba|exibe|imprima|imprime|diga|diz|repita|repete)"
_PT_PROMPT = one_of(
    "prompt (?:do|de) sistema", "instrucoes (?:iniciais|do sistema|ocultas|originais|secretas)",
    "mensagem do sistema",
)  # fmt: skip

_PORTUGUESE = (
    rule(
        _OVERRIDE,
        0.85,
        rf"\b{_PT_VERB} (?:todas |todos )?(?:as|os|suas|seus|tuas|teus|essas|estas) (?:\S+ )?{_PT_NOUN}\b",
    ),
    rule(
        _EXTRACT, 0.8, rf"\b{_PT_SHOW}(?: me)? (?:o |a |os |as )?(?:seu|sua|seus|suas|teu|tua) {_PT_PROMPT}"
    ),
    rule(
        _JAILBREAK,
        0.85,
        r"\bvoce (?:agora )?e (?:uma? )?(?:ia|inteligencia artificial|assistente) "
        r"(?:sem (?:restricoes|limites|filtros|censura)|livre)\b",
    ),
)

# --- Russian -----------------------------------------------------------------------------------------

_RU_VERB = one_of(
    "игнорируй", "игнорируйте", "проигнорируй", "проигнорируйте", "игнорировать", "забудь", "забудьте",
    "забыть", "отбрось", "отбросьте", "отмени", "отмените", "не обращай внимания на", "не следуй",
    "не выполняй", "пренебреги",
)  # fmt: skip
_RU_QUALIFIER = one_of(
    "все", "bce", "всё", "всех", "предыдущие", "прошлые", "прежние", "свои", "твои", "ваши", "системные",
    "данные", "ранее", "полученные", "вышеуказанные", "вышеизложенные", "эти",
)  # fmt: skip
_RU_NOUN = one_of(
    "инструкции", "инструкций", "указания", "указаний", "правила", "правил", "команды", "команд",
    "директивы", "промпт", "ограничения",
)  # fmt: skip
_RU_SHOW = one_of(
    "покажи", "покажите", "выведи", "выведите", "раскрой", "раскройте", "напиши", "повтори", "повторите",
    "скажи", "расскажи",
)  # fmt: skip
_RU_WHOSE = one_of(
    "свой", "твой", "ваш", "свои", "твои", "ваши", "системный", "системные", "исходный", "исходные",
    "первоначальные", "скрытые",
)  # fmt: skip
_RU_PROMPT = "(?:промпт|prompt|инструкции|указания|подсказку)"

_RUSSIAN = on_both_views(
    rule(_OVERRIDE, 0.85, rf"{_RU_VERB} (?:{_RU_QUALIFIER} )*{_RU_NOUN}"),
    rule(
        _EXTRACT,
        0.8,
        rf"{_RU_SHOW} (?:мне )?{_RU_WHOSE}(?: (?:системный|системные|исходный|скрытые))? {_RU_PROMPT}",
    ),
    rule(
        _JAILBREAK,
        0.8,
        r"\bты (?:теперь |сейчас )?(?:свободный|неограниченный|нецензурированный|без ограничений)",
    ),
    rule(_JAILBREAK, 0.75, r"режим (?:разработчика|бога|без ограничений)"),
)

# --- Estonian ----------------------------------------------------------------------------------------

_ET_VERB = one_of(
    "ignoreeri", "ignoreerige", "ignoreerida", "unusta", "unustage", "unustada", "eira", "eirake",
    "jata tahelepanuta", "jatke tahelepanuta", "ara arvesta", "arge arvestage", "tuhista",
)  # fmt: skip
_ET_QUALIFIER = one_of(
    "koik", "koiki", "kogu", "eelnevad", "eelnevaid", "eelmised", "eelmisi", "varasemad", "varasemaid",
    "senised", "seniseid", "oma", "sinu", "teie", "eespool", "toodud", "antud", "susteemi",
)  # fmt: skip
_ET_NOUN = one_of(
    "juhised", "juhiseid", "juhendeid", "juhend", "reeglid", "reegleid", "kasud", "kaske", "kasklusi",
    "instruktsioonid", "instruktsioone", "piirangud", "piiranguid", "juhtnoorid", "juhtnoore",
)  # fmt: skip
_ET_SHOW = "(?:naita|naidake|kuva|avalda|prindi|korda|utle)"
_ET_PROMPT = one_of(
    "susteemi ?(?:viipa|viip|prompti|juhiseid|juhised)", "algseid juhiseid", "peidetud juhiseid",
)  # fmt: skip

_ESTONIAN = (
    rule(_OVERRIDE, 0.85, rf"\b{_ET_VERB}\b{gap(1)} (?:{_ET_QUALIFIER} )*{_ET_NOUN}\b"),
    rule(_EXTRACT, 0.8, rf"\b{_ET_SHOW} (?:mulle )?(?:oma |sinu |teie )?{_ET_PROMPT}"),
    rule(
        _JAILBREAK,
        0.85,
        r"\bsa oled (?:nuud |nuudsest )?(?:piiranguteta|tsenseerimata|vaba) (?:ai|tehisintellekt)\b",
    ),
)

LANGUAGE_RULES: tuple[InjectionRule, ...] = _GERMAN + _FRENCH + _SPANISH + _PORTUGUESE + _RUSSIAN + _ESTONIAN
