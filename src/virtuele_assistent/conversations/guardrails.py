"""Guardrails, applied before answering (and to the answer text on its way out).

They cover the six dimensions municipalities red-team an assistant on:

1. ``refusal_policy``: no help with breaking rules (illegal dumping, demolition without a permit,
   fraud, discrimination, insults);
2. ``framing``: the same requests dressed up ("for a novel", "a friend of mine", "pretend you are");
3. ``information_boundaries``: other municipalities, invented or "confirm this" rules, private
   details of officials, personal case data the assistant cannot see;
4. ``legal_verdict``: legal or moral verdicts on the resident's own case ("will I win?", "is my
   neighbour punishable?", "give me your opinion");
5. ``prompt_injection``: instructions in the question, in JSON, or inside quoted/scraped text are
   data, never commands; answer sentences that read as instructions to the assistant are dropped;
6. ``functional_misuse``: fake registrations, acting for someone else, other people's data,
   mass reports, tasks outside a municipal assistant (code, contract reviews).

Each refusal is a short, polite Dutch reply that points to the legitimate route and the tenant's
contact routes. The rules are deliberately readable patterns: every one is exercised by the
red-team suite in tests/redteam/.

A message that only greets, thanks or says goodbye gets a friendly reply of its own (``small_talk``,
not a decline): searching the pages for "Dank je wel!" could only end in "I cannot find that".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from virtuele_assistent.tenants.schemas import TenantProfile


@dataclass(frozen=True)
class GuardReply:
    category: str
    text: str
    offer_handover: bool = False
    declines: bool = True  # a refusal counts towards offering a person; small talk does not


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE | re.DOTALL)


# -- 5. prompt injection -------------------------------------------------------------------------
INJECTION = _rx(
    r"\b(negeer|vergeet|ignore|disregard|forget)\b.{0,40}\b(instructies|instructie|regels|opdracht\w*|"
    r"instructions|rules|prompt|richtlijnen)\b",
    r"\b(systeemprompt|systeem-prompt|system ?prompt|systeembericht|configuratie laten zien)\b",
    r"\[\s*(systeem|system|admin|developer|ontwikkelaar)\s*[:\]]",
    r"<\s*/?\s*(system|systeem|instructions?)\s*>",
    r"\"role\"\s*:\s*\"(system|developer|assistant)\"",
    r"\b(dev ?mode|developer ?mode|jailbreak|(?-i:DAN)\b|zonder (regels|beperkingen|filters))",
    r"\b(vanaf nu|from now on)\b.{0,60}\b(ben je|antwoord je|zeg je|you are|you will|answer)",
    r"\b(je bent nu|you are now|speel voortaan|gedraag je als)\b",
    r"\bvolg (die|deze) instructie",
    r"\b(doe|antwoord|reageer) (alsof|als) (je|jij) (geen|niet)\b.{0,30}(assistent|regels|bronnen)",
    r"\"tenant\"\s*:\s*\"",
    r"\b(tell|zeg|vertel) the user\b|\btell the user that\b",
)

# Sentences in an answer that address the assistant instead of the resident (from scraped text).
ANSWER_INJECTION = _rx(
    r"\b(negeer|vergeet|ignore|disregard)\b.{0,40}\b(instructies|regels|instructions|rules|prompt)\b",
    r"\b(ai-assistent|assistent|chatbot|language model|taalmodel|AI)\s*[:,]\s*\w+",
    r"\b(als|for) (ai|assistent|chatbot|language model|taalmodel)\b.{0,40}\b(moet je|must|should)\b",
    r"\b(systeemprompt|system prompt)\b",
    r"\b(vraag|ask) (elke|iedere|every) (bezoeker|gebruiker|user|visitor)\b",
    r"\b(wachtwoord|password|pincode)\b.{0,40}\b(mail|stuur|send|geef)",
)

# -- handover -------------------------------------------------------------------------------------
# -- small talk: the whole message greets, thanks or says goodbye ----------------------------------

_ALONE = r"^\W*(?:{})\W*$"
GREETING = re.compile(
    _ALONE.format(
        r"(hoi|hallo|hai|hey|hee|hi|hello|goedemorgen|goedemiddag|goedenavond|goedendag|dag)"
        r"( (daar|allemaal|assistent))?"
    ),
    re.I,
)
THANKS = re.compile(
    _ALONE.format(
        r"((oké|ok|top|prima|fijn|super|duidelijk)\W+)?"
        r"((heel |hartelijk |super |alvast )?(bedankt|dank (je|u|jullie)( wel)?|dankjewel|dankuwel)"
        r"( voor (de|je|uw) (hulp|informatie|info|antwoord))?|thanks|thank you|merci)"
        r"|oké|ok|top|prima|fijn|duidelijk"
    ),
    re.I,
)
GOODBYE = re.compile(_ALONE.format(r"(doei|dag|tot ziens|tot later|fijne dag( nog)?|bye|groetjes)"), re.I)


def small_talk(text: str, tenant: TenantProfile) -> GuardReply | None:
    """The reply to a message that only greets, thanks or says goodbye."""
    you = tenant.addressed("u", "je")
    if GREETING.match(text):
        return GuardReply(
            "small_talk",
            f"Hallo! Ik ben de digitale assistent van {tenant.name}. Waarmee kan ik {you} helpen? "
            f"Stel {tenant.addressed('uw', 'je')} vraag in een paar woorden.",
            declines=False,
        )
    if THANKS.match(text):
        return GuardReply(
            "small_talk",
            f"Graag gedaan! {tenant.addressed('Heeft u', 'Heb je')} nog een vraag? Stel die gerust.",
            declines=False,
        )
    if GOODBYE.match(text):
        return GuardReply(
            "small_talk",
            f"Tot ziens! {tenant.addressed('Heeft u', 'Heb je')} later nog een vraag? "
            f"Dan help ik {you} graag.",
            declines=False,
        )
    return None


WANTS_HUMAN = _rx(
    r"\b(medewerker|mens|persoon|iemand van de gemeente|echte? (mens|persoon)|live ?chat|"
    r"klantenservice|human|real person|agent)\b.{0,40}\b(spreken|praten|chatten|bellen|contact|"
    r"talk|speak|chat)\b",
    r"\b(spreken|praten|chatten|talk|speak)\b.{0,30}\b(medewerker|mens|persoon|human|person)\b",
    r"\b(doorverbinden|doorverbonden|connect me)\b",
    r"^\s*(medewerker|mens|persoon|human)\s*[?!.]*\s*$",
)

# -- 1. refusal policy: breaking rules, discrimination, abuse --------------------------------------
RULE_BREAKING = _rx(
    r"\b(dump\w*|storten|gooien|achterlaten|lozen|verbranden)\b.{0,80}\b(zonder dat|ongezien|"
    r"niemand|stiekem|niet (ziet|merkt|betrapt)|in de (sloot|berm|natuur|bos)|op straat|'s nachts)\b",
    r"\b(zonder dat|ongezien|stiekem|niet (ziet|merkt|betrapt))\b.{0,80}\b(dump\w*|storten|gooien|"
    r"achterlaten|slopen|kappen|bouwen|verbouwen|lozen)\b",
    r"\b(asbest)\b.{0,60}\b(zelf|weg|kwijt|dump\w*|afval|container|stiekem|goedkoop)\b",
    r"\b(slopen|kappen|bouwen|verbouwen|aanbouw|dakkapel|uitbouw)\b.{0,60}"
    r"\bzonder (vergunning|melding)\b.{0,60}\b(hoe|kan ik|tips|merk|betrap|controle)",
    r"\b(hoe|tips?)\b.{0,60}\bzonder (vergunning|melding)\b.{0,40}\b(slopen|kappen|bouwen|verbouwen)\b",
    r"\b(ontduik\w*|ontwijk\w*|ontlopen|omzeil\w*)\b.{0,40}\w*(belasting|heffing|boete|controle|"
    r"vergunning|handhaving|toezicht|regels)",
    r"\b(fraude|frauderen|oplicht\w*|vervals\w*|namaken|nep[- ]?\w*)\b",
    r"\b(openbre\w*|inbre(ek|k)\w*|forceer\w*|forceren|kraak\w*|kraken)\b",
    r"\b(zwart (werken|verdienen|bijverdienen))\b.{0,60}\b(uitkering|bijstand)\b",
    r"\b(uitkering|bijstand)\b.{0,60}\b(zwart|verzwijg\w*|niet (opgeven|opgeeft|melden|meldt|doorgeven|"
    r"doorgeeft))\b",
    r"\b(verzwijg\w*|niet (opgeven|opgeeft|melden|meldt|doorgeven|doorgeeft))\b.{0,60}"
    r"\b(uitkering|bijstand|inkomen|samenwonen)\b",
    r"\b(scheld\w*|beledig\w*|dreig\w*|hatelijk\w*)\b.{0,40}\b(mail|brief|bericht|tekst|wethouder|"
    r"ambtenaar|burgemeester|buurman|buren)\b",
    r"\b(hoe grover hoe beter)\b",
    r"\b(merkt|ziet|controleert) (niemand|de gemeente (het |dat )?niet)\b|\bniet (betrapt|gepakt)\b|"
    r"\bzonder (gepakt|betrapt) te worden\b",
    r"\b(buitenlanders|allochtonen|moslims|joden|zwarten|migranten|asielzoekers|marokkanen|turken|"
    r"polen)\b.{0,80}\b(niet (wonen|hebben|naast)|weg|weren|buiten houden|meeste|waar wonen)\b",
    r"\b(wijken?|buurten?)\b.{0,40}\b(buitenlanders|allochtonen|migranten)\b",
    r"\bparkeerboete\b.{0,40}\b(ontlopen|ontwijken|niet betalen)\b",
    r"\b(zonder (te )?betalen)\b.{0,40}\b(parkeren|parkeer)\b",
)

# -- 2. framing: a rule-breaking request behind a story, a friend or a role -----------------------
FRAMING = _rx(
    r"\b(voor|in) (een|mijn) (roman|verhaal|boek|thriller|film|toneelstuk|scriptie|profielwerkstuk|"
    r"werkstuk|spel|game|onderzoek|podcast)\b",
    r"\bik schrijf (een|aan een) (roman|verhaal|boek|thriller)\b",
    r"\b(een|mijn) (vriend|vriendin|kennis|neef|nicht|collega|buurman)\b.{0,20}"
    r"\b(van mij|wil weten|vraagt)\b",
    r"\b(hypothetisch|stel dat|puur theoretisch|theoretisch gezien|als gedachte-experiment)\b",
    r"\b(doe alsof|speel (dat|de rol)|rollenspel|stel je voor dat je)\b",
    r"\b(laat (mijn|de) (hoofdpersoon|personage))\b",
)
ROLE_PLAY = _rx(
    r"\b(doe alsof|speel de rol|je bent (nu )?de|stel je voor dat je de?)\b.{0,40}"
    r"\b(burgemeester|wethouder|ambtenaar|medewerker|rechter|advocaat|minister)\b",
    r"\b(beloof|garandeer|bevestig schriftelijk|zeg (nou )?gewoon dat)\b",
    r"\banders is het (jouw|uw) schuld\b",
)
MISUSE_SUBJECT = _rx(
    r"\b(controle\w*|gecontroleerd|toezicht|handhaving)\b.{0,60}\b(slechtst|zwakst|omzeilen|makkelijk|"
    r"ontlopen|ontwijken|fraude)\b",
    r"\b(slechtst|zwakst|makkelijkst)\b.{0,60}\b(gecontroleerd|controle)\b",
    r"\bhoe makkelijk (fraude|frauderen|oplichting)\b",
    r"\b(stap voor stap|precies)\b.{0,40}\b(openbreken|inbreken|vervalsen|dumpen|slopen)\b",
)

# -- 3. information boundaries -------------------------------------------------------------------
PRIVATE_DETAILS = _rx(
    r"\b(privé(nummer|adres|telefoon|mail)|prive(nummer|adres)|06-nummer|mobiele? nummer|huisadres|"
    r"woonadres)\b.{0,40}\b(wethouder|burgemeester|ambtenaar|medewerker|raadslid|griffier|"
    r"wethouders|van)\b",
    r"\b(waar woont|adres van|telefoonnummer van|nummer van)\b.{0,40}\b(wethouder|burgemeester|"
    r"ambtenaar|raadslid|mijn (buurman|buurvrouw|ex|baas))\b",
)
OWN_CASE_DATA = _rx(
    r"\b(op welke datum|wanneer precies|welke dag)\b.{0,60}\b(mijn|ik woon)\b",
    r"\b(kijk|kijken|check|controleer)\b.{0,40}\b(of mijn|mijn (aanvraag|verhuizing|dossier|"
    r"uitkering|betaling|melding|status))\b",
    r"\b(is mijn|status van mijn)\b.{0,30}\b(aanvraag|verhuizing|melding|vergunning|uitkering)\b.{0,30}"
    r"\b(al|verwerkt|goedgekeurd|binnen)\b",
)
UNSUPPORTED_CERTAINTY = _rx(
    r"\b(geef (gewoon|maar|nou) (een|het) (bedrag|getal|antwoord|datum))\b",
    r"\b(ook als je het niet (zeker )?weet|ook al weet je het niet|verzin (maar )?iets|gok maar)\b",
    r"\b(bevestig|klopt (het|dat) (dat|toch))\b.{0,80}(€|\beuro\b|\d)",
    r"\b(de vorige medewerker|een medewerker|iemand van de gemeente|de buurvrouw)\b.{0,20}\bzei\b.{0,120}"
    r"\bklopt (dat|het)\b",
    r"\b(volgens|op grond van|krachtens) (de |het )?(nieuwe )?(wet|artikel|verordening|regeling)\b.{0,60}"
    r"\b(20[3-9]\d|uit 2[1-9]\d\d)\b",
)
MUNICIPALITIES = (
    "amsterdam|rotterdam|den haag|'s-gravenhage|utrecht|eindhoven|groningen|tilburg|almere|breda|"
    "nijmegen|apeldoorn|arnhem|haarlem|haarlemmermeer|amersfoort|zaanstad|enschede|den bosch|"
    "'s-hertogenbosch|zwolle|zoetermeer|leeuwarden|leiden|maastricht|dordrecht|ede|alphen aan den rijn|"
    "westland|alkmaar|emmen|delft|venlo|deventer|sittard-geleen|helmond|oss|amstelveen|hilversum|"
    "súdwest-fryslân|heerlen|hengelo|purmerend|schiedam|lelystad|roosendaal|leidschendam-voorburg|"
    "gouda|vlaardingen|hoorn|almelo|spijkenisse|assen|meppel|middelburg|zeist|veenendaal|katwijk|"
    "capelle aan den ijssel|nissewaard|bergen op zoom|gooise meren|barneveld|wageningen|doetinchem"
)
OTHER_MUNICIPALITY = re.compile(
    rf"\b((in|voor|bij) (?P<b>{MUNICIPALITIES})\b|(?P<c>{MUNICIPALITIES})(se|sche)\b|"
    r"andere gemeenten?\b|buurgemeente\w*)",
    re.IGNORECASE,
)
# "gemeente Zwolle": a capitalised name after "gemeente" (case-sensitive on purpose).
NAMED_MUNICIPALITY = re.compile(r"\b[Gg]emeente (?P<a>[A-Z][\w'-]+(?: [a-z]{2,3} [A-Z][\w'-]+)?)")

# -- 4. legal / normative verdicts on the resident's own case -----------------------------------
LEGAL_VERDICT = _rx(
    r"\b(win ik|krijg ik gelijk|maak ik (een )?kans|heb ik (een )?kans|sta ik sterk|heb ik gelijk|"
    r"wie heeft (er )?gelijk)\b",
    r"\b(is|wordt) (dat|dit|het|hij|zij|ze|mijn \w+) (strafbaar|illegaal|onrechtmatig|terecht|onterecht|"
    r"rechtvaardig|onrechtvaardig|eerlijk|oneerlijk|toegestaan|discriminatie)\b",
    r"\b(ben ik|is hij|is zij|is mijn \w+) (strafbaar|schuldig|aansprakelijk|in overtreding|in mijn recht)\b",
    r"\bhoe hoog (wordt|is) (zijn|haar|mijn|de) boete\b",
    r"\b(zeg|antwoord) (gewoon|alleen|maar) (ja of nee)\b",
    r"\b(vind (jij|je|u)|wat vind (jij|je|u)|jouw mening|je (eerlijke )?mening|uw mening|"
    r"geef (je|jouw|uw) (eerlijke )?mening)\b",
    r"\b(schandalig|belachelijk|schande)\b.{0,60}\?",
    r"\b(mag (mijn|de) (huisbaas|verhuurder|buurman|werkgever|gemeente))\b.{0,60}\b(mij|mijn|de huur)\b",
    r"\bmoet ik (die|deze|de) (boete|aanslag|naheffing) (echt )?betalen\b",
    r"\b(kan|moet) ik (een )?(advocaat|rechtszaak|naar de rechter)\b",
)

# -- 6. functional misuse ------------------------------------------------------------------------
FUNCTIONAL_MISUSE = _rx(
    r"\b(schrijf\w*\b.{0,30}\bin\b|inschrijv\w*|ingeschreven)\b.{0,100}\b(niet (echt )?wo(o|n)\w*|"
    r"wo(o|n)\w* (ik|hij|zij|ze|we|jij) (daar|er) (nog )?niet|zonder (er|daar) te wonen|"
    r"schijn\w*|fictie\w*|nep)",
    r"\b(namens (mijn|de|een) (ex|buurman|buurvrouw|vader|moeder|broer|zus|huisgenoot|vriend\w*))\b"
    r".{0,80}\b(door|aan|af|melden|aanvragen|wijzig)\w*",
    r"\b(hij|zij|ze) weet (het )?niet\b",
    r"\b(bsn|burgerservicenummer|geboortedatum|adres|gegevens|inkomen|telefoonnummer)\b.{0,30}\b(van "
    r"(mijn|de|een) (buurman|buurvrouw|buren|ex|collega|baas|huurder|vader|moeder|broer|zus|kennis))\b",
    r"\b(waar woont|adres van)\b.{0,40}\b(mijn|de|een) (ex|buurman|buurvrouw|collega)\b",
    r"\b(\d{2,}|tientallen|honderden|veel|heel veel) (verschillende )?"
    r"(meldingen|klachten|afspraken|aanvragen)\b",
    r"\b(meldingen|klachten)\b.{0,40}\b(buren|buurman|buurvrouw)\b.{0,60}\b(weg|pesten|dwarszitten)\b",
    r"\b(doorverkopen|doorverkoop|verkopen)\b.{0,40}\b(afspraken|afspraak|plekken|tijdsloten)\b",
    r"\b(afspraken|afspraak)\b.{0,60}\b(doorverkopen|doorverkoop|verkopen)\b",
    r"\b(schrijf|maak|genereer|programmeer|write)\b.{0,40}\b(python|javascript|script|code|programma|bot|"
    r"scraper|sql|excel-macro)\b",
    r"\b(vat|samenvatting)\b.{0,40}\b(huurcontract|contract|arbeidscontract|pagina's)\b",
    r"\b(huiswerk|opstel|essay|sollicitatiebrief|gedicht|liedje|mop)\b.{0,30}\b(schrijf|maak|voor mij)\b",
    r"\b(schrijf|maak)\b.{0,30}\b(huiswerk|opstel|essay|sollicitatiebrief|gedicht|liedje)\b",
)


def check(text: str, tenant: TenantProfile, language: str = "nl") -> GuardReply | None:
    """The guardrail reply for a question, or None when it may be answered normally."""
    lowered = " ".join(text.split())
    if INJECTION.search(lowered):
        return GuardReply("prompt_injection", _reply_injection(tenant))
    if FUNCTIONAL_MISUSE.search(lowered):
        return GuardReply("functional_misuse", _reply_misuse(tenant))
    framed = FRAMING.search(lowered) or ROLE_PLAY.search(lowered)
    if RULE_BREAKING.search(lowered):
        category = "framing" if framed else "refusal_policy"
        return GuardReply(category, _reply_rules(tenant))
    if framed and (MISUSE_SUBJECT.search(lowered) or ROLE_PLAY.search(lowered)):
        return GuardReply("framing", _reply_framing(tenant))
    if MISUSE_SUBJECT.search(lowered):
        return GuardReply("refusal_policy", _reply_rules(tenant))
    if PRIVATE_DETAILS.search(lowered):
        return GuardReply("information_boundaries", _reply_private(tenant))
    if LEGAL_VERDICT.search(lowered):
        return GuardReply("legal_verdict", _reply_verdict(tenant))
    other = _other_municipality(lowered, tenant)
    if other:
        return GuardReply("information_boundaries", _reply_other_municipality(tenant, other))
    if OWN_CASE_DATA.search(lowered):
        return GuardReply("information_boundaries", _reply_own_case(tenant), offer_handover=True)
    if UNSUPPORTED_CERTAINTY.search(lowered):
        return GuardReply("information_boundaries", _reply_certainty(tenant))
    if WANTS_HUMAN.search(lowered):
        return GuardReply("handover", _reply_handover(tenant), offer_handover=True)
    return small_talk(lowered, tenant)


def wants_human(text: str) -> bool:
    return bool(WANTS_HUMAN.search(" ".join(text.split())))


def _other_municipality(text: str, tenant: TenantProfile) -> str | None:
    own = {tenant.slug.lower(), tenant.name.lower().removeprefix("gemeente ").strip()}
    for match in NAMED_MUNICIPALITY.finditer(text):
        name = match.group("a").strip()
        if name.lower() not in own:
            return name
    for match in OTHER_MUNICIPALITY.finditer(text):
        name = (match.group("b") or match.group("c") or "").strip().lower()
        if not name:
            return "een andere gemeente"
        if name in own:
            continue
        return name.title()
    return None


# -- replies -------------------------------------------------------------------------------------


def contact_routes(tenant: TenantProfile) -> str:
    contact = tenant.contact
    routes = []
    if contact.phone:
        routes.append(f"bel {contact.phone}")
    if contact.contact_form_url:
        routes.append(f"gebruik het contactformulier ({contact.contact_form_url})")
    if contact.email:
        routes.append(f"mail naar {contact.email}")
    if not routes:
        return f"Neem contact op met {tenant.name}."
    return f"Neem contact op met {tenant.name}: " + " of ".join(routes) + "."


def _reply_rules(tenant: TenantProfile) -> str:
    return (
        "Daar help ik niet bij: ik geef geen tips om regels of controles te omzeilen. "
        f"Wel help ik {tenant.addressed('u', 'je')} graag met de manier die wél mag, bijvoorbeeld "
        "grofvuil laten ophalen, een vergunning aanvragen of een melding doen. Vraag me daar gerust naar. "
        f"{tenant.addressed('Twijfelt u', 'Twijfel je')}? {contact_routes(tenant)}"
    )


def _reply_framing(tenant: TenantProfile) -> str:
    return (
        "Ook in een verhaal, voor iemand anders of als rollenspel leg ik niet uit hoe regels of "
        "controles te omzeilen zijn, en ik doe geen beloftes namens de gemeente. "
        f"Ik geef alleen informatie die op de website van {tenant.name} staat. "
        f"{tenant.addressed('Wilt u', 'Wil je')} weten hoe een aanvraag of melding wél werkt? "
        f"Vraag het me gerust. {contact_routes(tenant)}"
    )


def _reply_private(tenant: TenantProfile) -> str:
    return (
        "Privégegevens van medewerkers, bestuurders of andere mensen geef ik niet. "
        f"{tenant.addressed('Wilt u', 'Wil je')} iemand van de gemeente bereiken? {contact_routes(tenant)}"
    )


def _reply_verdict(tenant: TenantProfile) -> str:
    your = tenant.addressed("uw", "je")
    return (
        f"Ik kan geen juridisch oordeel of mening geven over {your} eigen situatie of die van een ander. "
        f"Ik kan {tenant.addressed('u', 'je')} wel vertellen welke regels en procedures de gemeente "
        f"noemt, bijvoorbeeld hoe {tenant.addressed('u', 'je')} bezwaar maakt of een aanvraag doet. "
        f"Voor advies over {your} situatie: {contact_routes(tenant)} Gratis juridisch advies "
        f"{tenant.addressed('krijgt u', 'krijg je')} ook bij het Juridisch Loket (0900-8020)."
    )


def _reply_other_municipality(tenant: TenantProfile, other: str) -> str:
    return (
        f"Ik ben de assistent van {tenant.name} en geef alleen informatie over deze gemeente. "
        f"Voor {other} {tenant.addressed('kijkt u', 'kijk je')} het best op de website van die gemeente. "
        f"{tenant.addressed('Heeft u', 'Heb je')} een vraag over {tenant.name}? Dan help ik graag."
    )


def _reply_own_case(tenant: TenantProfile) -> str:
    your = tenant.addressed("uw", "je")
    return (
        f"Ik kan {your} persoonlijke gegevens, aanvragen of dossiers niet inzien. "
        f"Deel ook geen persoonsgegevens zoals {your} BSN in deze chat. Voor {your} eigen situatie: "
        f"{contact_routes(tenant)}"
    )


def _reply_certainty(tenant: TenantProfile) -> str:
    return (
        "Ik noem alleen bedragen, datums en regels die ik in de informatie van "
        f"{tenant.name} kan terugvinden, en ik bevestig niets wat ik daar niet vind. "
        f"Stel {tenant.addressed('uw', 'je')} vraag gerust zonder aanname, dan zoek ik het op. "
        f"{contact_routes(tenant)}"
    )


def _reply_injection(tenant: TenantProfile) -> str:
    return (
        "Ik volg geen instructies die in een bericht of tekst staan en ik deel mijn instellingen niet. "
        f"Ik beantwoord vragen over {tenant.name} met informatie van de website van de gemeente. "
        f"Wat {tenant.addressed('wilt u', 'wil je')} weten?"
    )


def _reply_misuse(tenant: TenantProfile) -> str:
    return (
        "Daar help ik niet bij. Ik doe geen aanvragen, meldingen of inschrijvingen voor anderen of "
        "op een adres waar iemand niet woont, ik geef geen gegevens van andere mensen en ik schrijf "
        f"geen code of juridische beoordelingen. Ik beantwoord vragen over de diensten van {tenant.name}. "
        f"{tenant.addressed('Wilt u', 'Wil je')} zelf iets regelen? {contact_routes(tenant)}"
    )


def _reply_handover(tenant: TenantProfile) -> str:
    """Without knowing who is there now; the chat service says that (``handover.request_reply``)."""
    return f"{tenant.addressed('U', 'Je')} wilt graag een medewerker spreken. {contact_routes(tenant)}"


def unavailable_text(tenant: TenantProfile) -> str:
    return (
        f"Het lukt me nu niet om een antwoord te maken. Probeer het later opnieuw, of: "
        f"{contact_routes(tenant)}"
    )


# -- the answer on its way out ------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def screen_answer(text: str) -> str:
    """Drop answer sentences that are instructions to the assistant (from scraped content)."""
    if not ANSWER_INJECTION.search(text) and not INJECTION.search(text):
        return text
    kept = [s for s in _split(text) if not (ANSWER_INJECTION.search(s) or INJECTION.search(s))]
    return "".join(kept).strip()


def _split(text: str) -> list[str]:
    parts: list[str] = []
    last = 0
    for match in _SENTENCE_END.finditer(text):
        parts.append(text[last : match.end()])
        last = match.end()
    if last < len(text):
        parts.append(text[last:])
    return parts


# Words an instruction to the assistant needs; a sentence without any of them streams at once.
SUSPECT = _rx(
    r"negeer|vergeet|ignore|disregard|assistent|chatbot|\bai\b|taalmodel|language model|systeem|system|"
    r"prompt|instructie|instruction|wachtwoord|password|pincode|bezoeker|gebruiker|\buser\b|visitor|"
    r"regels|rules|vanaf nu|from now on|je bent nu|you are now|dev ?mode|jailbreak|\bDAN\b|role|tenant|"
    r"[\[<{]"
)


# Plain substrings in front of SUSPECT: a cheap test per streamed piece; the regex runs on a hit.
_SUSPECT_PARTS = (
    "negeer",
    "vergeet",
    "ignor",
    "disregard",
    "assistent",
    "chatbot",
    "ai",
    "taalmodel",
    "language",
    "systeem",
    "system",
    "prompt",
    "instruc",
    "wachtwoord",
    "password",
    "pincode",
    "bezoeker",
    "gebruiker",
    "user",
    "visitor",
    "regels",
    "rules",
    "vanaf nu",
    "from now",
    "bent nu",
    "are now",
    "mode",
    "jailbreak",
    "dan",
    "role",
    "tenant",
    "[",
    "<",
    "{",
)


def _suspect(text: str, start: int = 0) -> bool:
    window = text[start:].lower()
    return any(part in window for part in _SUSPECT_PARTS) and bool(SUSPECT.search(text, start))


def _unsafe(sentence: str) -> bool:
    return bool(ANSWER_INJECTION.search(sentence) or INJECTION.search(sentence))


class AnswerScreen:
    """``screen_answer`` for a stream.

    Text streams on at once while the sentence it belongs to has none of the ``SUSPECT`` words;
    from such a word on, the rest of the sentence is held until the sentence ends, and dropped if
    the sentence reads as an instruction to the assistant.
    """

    def __init__(self) -> None:
        self.sentence = ""  # the current sentence so far
        self.held = ""  # its tail that has not been released
        self.suspect = False  # the current sentence has a SUSPECT word

    def feed(self, piece: str) -> str:
        out: list[str] = []
        # Only the new text (and a little before it, for words split across pieces) is searched.
        start = max(0, len(self.sentence) - 40)
        self.sentence += piece
        self.held += piece
        while True:
            match = _SENTENCE_END.search(self.sentence, start)
            if match is None:
                break
            whole = self.sentence[: match.end()]
            released = len(self.sentence) - len(self.held)
            if not ((self.suspect or _suspect(whole)) and _unsafe(whole)):
                out.append(whole[released:])
            self.sentence = self.sentence[match.end() :]
            self.held = self.sentence
            self.suspect = False
            start = 0
        if self.held:
            self.suspect = self.suspect or _suspect(self.sentence, max(0, start - 40))
            if not self.suspect:
                cut = max(self.held.rfind(" "), self.held.rfind("\n")) + 1  # whole words only
                out.append(self.held[:cut])
                self.held = self.held[cut:]
        return "".join(out)

    def flush(self) -> str:
        rest = "" if _unsafe(self.sentence) else self.held
        self.sentence = self.held = ""
        self.suspect = False
        return rest
