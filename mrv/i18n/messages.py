"""The English messages the service writes, as templates, marked for the zh-Hans catalogue.

A template is the message with ``{name}`` where a parameter goes (``str.format`` syntax; ``{{`` is a brace).
Keep each one exactly as the code writes it: :mod:`mrv.i18n` finds a message's template by its literal
parts, and tests/mrv/test_i18n.py checks that every message the code writes has one (and the catalogue a
translation of each). Placeholder names say what a parameter is:

* :data:`NESTED`: the parameter is a message too (translated in turn): ``detail``, ``what``, ``how``, …
* :data:`NUMBERS`: a figure (the template then only matches a number there);
* :data:`LISTS`: messages joined with ``"; "``;
* :data:`CODES`: a code or a field name (then no punctuation but ``.``, ``-``, ``/`` and quotes);
* anything else (a field name, a code, a unit, a value as given) is shown as it is.

After changing a template here: ``make messages`` (``makemessages`` into mrv/locale) and translate the new
entries of ``mrv/locale/zh_Hans/LC_MESSAGES/django.po``.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

NESTED = frozenset({"detail", "what", "how", "meaning", "band", "hint", "expected", "mode"})
NUMBERS = frozenset(
    {
        "count",
        "low",
        "high",
        "year",
        "row",
        "rows",
        "byte",
        "max",
        "limit",
        "reference",
        "tolerance",
        "change",
    }
    | {"length", "given_length", "size", "figure", "corrected", "percent", "fraction", "annual", "digits"}
    | {"number", "index", "places"}
)
LISTS = frozenset({"steps"})
#: A code, a field or a status (``natural_gas``, ``ncv``, ``in_review``): no ``:``, ``;``, ``,`` or parenthesis.
CODES = frozenset(
    {"key", "name", "fuel", "product", "source", "code", "kind", "status", "oxide", "spelling", "entered"}
    | {"region", "header", "category", "variant", "severity", "methodology"}
)


#: The engine's errors (accounting/): problem details and field errors.
ENGINE = (
    gettext_noop("the body must be a JSON object"),
    gettext_noop("the request is invalid"),
    gettext_noop("{count} invalid field(s)"),
    gettext_noop("must be a whole number from {low} to {high}"),
    gettext_noop("methodology must be a code"),
    gettext_noop("sector must be one of {choices}"),
    gettext_noop("lines must be a non-empty list of activity lines"),
    gettext_noop("expected an object"),
    gettext_noop("{key} is not a field; expected {fields}"),
    gettext_noop("methodology_version must be a string"),
    gettext_noop("at most {count} lines per calculation"),
    gettext_noop("an activity line must be an object"),
    gettext_noop("source must be one of {choices}"),
    gettext_noop("ref must be a non-empty text of at most {count} characters"),
    gettext_noop("validation stopped after {count} errors"),
    gettext_noop("{key} is not a field of a {source} line"),
    gettext_noop("{key} is not a field of {source} lines; {hint}their fields are: {fields}"),
    gettext_noop("did you mean {name}? "),
    gettext_noop("ref {ref} is used by an earlier line"),
    gettext_noop("{key} must not be negative"),
    gettext_noop("{key} must lie between 0 and {upper} (or 0-100 %)"),
    gettext_noop("{key} is required for this line"),
    gettext_noop('{key} needs a value with its unit, e.g. {{"value": "90", "unit": "degC"}}'),
    gettext_noop("{key} is below absolute zero"),
    gettext_noop("{key} must be a text code"),
    gettext_noop("unknown {what} {value} under {methodology}; known: {known}"),
    gettext_noop("{key} must be a non-empty text of at most {count} characters"),
    gettext_noop("{key} must be an object"),
    gettext_noop("{key} must be a non-empty list of objects"),
    gettext_noop("{key} has more than {count} entries"),
    gettext_noop("{key} is not a field here; expected {fields}"),
    gettext_noop("a quantity has only 'value' and 'unit'"),
    gettext_noop("{key}: {detail}"),
    gettext_noop(
        "the {methodology} default for {key} is in {unit}, which does not fit this line; give {key} in"
        " one of: {units}"
    ),
    gettext_noop("{key}: value is required"),
    gettext_noop("{key}: unit is required (a text such as {example})"),
    gettext_noop('{key} needs a value with its unit, e.g. {{"value": "100", "unit": "{unit}"}}'),
    gettext_noop("{key} is given in {unit}"),
    gettext_noop("{key} must be a number"),
    gettext_noop("{key}/{index} must be an object"),
    gettext_noop("methodology {code} has no version {version}; published: {versions}"),
    gettext_noop("{path}: source {source} is not listed in [sources]"),
    gettext_noop("{path}: confidence must be one of {choices}"),
    gettext_noop("unknown GWP set {name}"),
    gettext_noop("default methodology {code} is missing"),
    gettext_noop("{path}: malformed value ({error})"),
    gettext_noop("{code} lacks {path}"),
    gettext_noop("{filename}: missing {error}"),
    gettext_noop("version {version} must be dot-separated integers"),
    gettext_noop("unknown methodology {code}; published: {codes}"),
    gettext_noop("{code}: method {kind} needs {need}, which is missing"),
    gettext_noop("methodology {key} defined twice"),
    gettext_noop("{key} must name the version it supersedes (one of {known})"),
    gettext_noop("unknown category {category} for {kind}"),
    gettext_noop("method {key} registered twice"),
    gettext_noop("no method registered for line kind {kind}, variant {variant}"),
    gettext_noop("sulphur_fraction + ash_fraction exceed 1"),
    gettext_noop("method cn_mee is not part of {code}"),
    gettext_noop("current_efficiency must be above 0"),
    gettext_noop("green anodes less hydrogen, baked anodes and waste tar is negative"),
    gettext_noop("sulphur and ash fractions exceed 1"),
    gettext_noop("hydrogen_content as a fraction must lie in [0, 1]"),
    gettext_noop("{oxide}_non_carbonate_fraction exceeds {oxide}_fraction"),
    gettext_noop("substitute deductions ({deduction} t) exceed the clinker term ({gross} t)"),
    gettext_noop(
        "mgo_non_carbonate_fraction is given without mgo_fraction: give mgo_fraction too (the MgO term"
        " counts only when mgo_fraction is given), or omit mgo_non_carbonate_fraction"
    ),
    gettext_noop(
        "{key} describes discarded kiln dust: give kiln_dust (and bypass_dust if any; 0 when no dust is"
        " discarded), or omit {key} to use the default CF_ckd"
    ),
    gettext_noop(
        "IPCC Eq. 2.5 relates discarded dust to the clinker produced: clinker must be above 0 when"
        " calcined dust is discarded"
    ),
    gettext_noop(
        "the clinker factor of Eq. 2.4 is 0 (all CaO and MgO non-carbonate), so CF_ckd of Eq. 2.5 is"
        " undefined while calcined carbonate dust is discarded"
    ),
    gettext_noop(
        "no {region} grid factor is published for {year} or earlier under {code}: give emission_factor"
    ),
    gettext_noop("steam enthalpy must be at least {reference} kJ/kg (the reference)"),
    gettext_noop("hot water must be at least {reference} °C (the reference)"),
    gettext_noop("give exactly one of quantity, steam or hot_water"),
    gettext_noop("{key} in {unit} does not fit a quantity given in {basis}"),
    gettext_noop("ncv is not used when the quantity is already an energy"),
    gettext_noop("give either emission_factor or carbon_content with oxidation_factor, not both"),
    gettext_noop("carbon in outputs ({carbon_out} tC) exceeds carbon in inputs ({carbon_in} tC)"),
    gettext_noop("carbon_content in {unit} needs a quantity in {basis}"),
    gettext_noop("carbon_content per mass must lie between 0 and 1"),
    gettext_noop("{text} is not a decimal number"),
    gettext_noop("{text} is not a decimal number; {hint}"),
    gettext_noop("NaN and Infinity are not numbers"),
    gettext_noop("magnitude must not exceed {max}"),
    gettext_noop("values below 1e-{digits} are not accepted"),
    gettext_noop("expected a number, got a boolean"),
    gettext_noop("expected a number, got {kind}"),
    gettext_noop("{unit} cannot be converted to {expected}"),
    gettext_noop("a plain fraction"),
    gettext_noop("a unit must be a non-empty text of at most 64 characters"),
    gettext_noop(
        "unknown unit {unit}: a unit is written with letters, digits, spaces, '*', '/', '^' and"
        " parentheses (for example 't', 'GJ/t', '10^4 Nm3', 'kgCO2/kWh')"
    ),
    gettext_noop("unknown unit {unit}: an exponent must be a whole number"),
    gettext_noop("{unit} is not a temperature unit"),
    gettext_noop("unknown unit {unit}: exponents larger than {max} are not used"),
    gettext_noop("unknown unit {unit}: a power of a power is not a unit"),
    gettext_noop("unit {unit} is out of any useful range"),
    gettext_noop("unknown unit {unit}"),
    gettext_noop("unknown unit {unit}; did you mean {hint}?"),
    gettext_noop(
        "'ton' is ambiguous (short ton of 907.18 kg or metric tonne?): write 't' for the metric tonne"
    ),
    gettext_noop("'tons' is ambiguous (short tons or metric tonnes?): write 't' for metric tonnes"),
    gettext_noop("short tons are not used in these reports: write 't' for metric tonnes"),
    gettext_noop(
        "'cal' is ambiguous (thermochemical 4.184 J or international 4.1868 J?): write 'kcal'"
        " (international table) or give the value in kJ"
    ),
    gettext_noop("'calorie' is ambiguous: write 'kcal' (international table) or give the value in kJ"),
    gettext_noop("write 'kcal' (international table) or give the value in MJ"),
    gettext_noop("write 'kcal' (international table) or give the value in GJ"),
    gettext_noop(
        "{text} is written with full-width characters: write half-width digits 0-9 and '.' (for example"
        " 1000.5, not １０００．５)"
    ),
    gettext_noop(
        "unknown unit {unit}: full-width characters are not read; write the unit in half-width characters"
        " (for example '10^4 Nm3', 'GJ/t', '万Nm3')"
    ),
    gettext_noop(
        "the decimal mark is '.' and digits are not grouped: write {grouped} if ',' groups thousands, or"
        " {whole}.{fraction} if it is a decimal comma"
    ),
    gettext_noop("the decimal mark is '.' and digits are not grouped: did you mean {reading}?"),
    # a line's uncertainty (accounting/uncertainty.py)
    gettext_noop("uncertainty must be an object"),
    gettext_noop("{key} is a plain number of percent, or in '%'"),
    gettext_noop(
        "{key} must lie between 0 and {max} %: error propagation (Approach 1) does not hold for larger"
        " uncertainties (use a Monte Carlo analysis, Approach 2)"
    ),
    gettext_noop("no tier thresholds are carried for {kind} lines (only for {kinds}): give activity_percent"),
    gettext_noop(
        "give activity_percent, factor_percent or tier (±% at 95 %, or the tier of the activity data)"
    ),
    gettext_noop("give either tier or activity_percent, not both"),
)

#: The Django layer's errors: services, views, validators, line files.
SERVICE = (
    gettext_noop(
        "Authorization: Bearer is not read by this API: send the same key as 'Authorization: Token <key>'."
    ),
    gettext_noop("a group_by key is repeated"),
    gettext_noop("The request body is larger than this service accepts (MRV_MAX_BODY_BYTES)."),
    gettext_noop(
        "The request has more files or form fields than this service accepts ({files} files, {fields} fields)."
    ),
    # xgettext:no-python-brace-format (Chinese has no plural: {plural} is left out)
    gettext_noop("The request has {count} invalid field{plural}; see errors."),
    gettext_noop("Idempotency-Key must be 1 to {max} characters"),
    gettext_noop("bad Idempotency-Key header"),
    gettext_noop("this Idempotency-Key was used for a different request; use a new key"),
    gettext_noop("invalid query parameter: {names}"),
    gettext_noop("query parameter {name} contains a control character"),
    gettext_noop("lines must be a list"),
    gettext_noop("upload the file as multipart form field 'file'"),
    gettext_noop("the file must be .csv or .xlsx (or say which with ?format=csv|xlsx)"),
    gettext_noop("a list of activity lines"),
    gettext_noop("unknown facility"),
    gettext_noop("a CSV or XLSX file"),
    gettext_noop("csv or xlsx"),
    gettext_noop("no facility of yours has this id"),
    gettext_noop("Too many failed authentications from this address."),
    gettext_noop("Ensure this value is less than or equal to {max}."),
    gettext_noop("The dashboard is for the competent authority."),
    gettext_noop(
        "revision {number} is a draft: a copy of record is made of a submitted revision; submit it first"
    ),
    gettext_noop("the job is {status}: only a claimed job (in review) can be released"),
    gettext_noop("the job is {status}: only a job awaiting review or in review can be reassigned"),
    gettext_noop("no active verifier has this user name"),
    gettext_noop(
        "the verifier does not belong to the body that verifies this job; to move a facility's open jobs"
        " to another body, change the facility's verification_body"
    ),
    gettext_noop("the job is already claimed by this verifier"),
    gettext_noop("unknown verifier"),
    gettext_noop("not a verifier of the job's body"),
    gettext_noop("lines are imported into a draft revision only; revise the report first"),
    gettext_noop("revision {number} is {status}: {detail}"),
    gettext_noop("a report without activity lines cannot be submitted"),
    gettext_noop("the file has no activity lines"),
    gettext_noop("{facility} already has a report for {period}; edit or revise it"),
    gettext_noop("{count} invalid cell(s); nothing was stored"),
    gettext_noop("no data rows"),
    gettext_noop("a report exists for this period"),
    gettext_noop("a positive opinion needs every automated finding settled; {steps}"),
    gettext_noop(
        "{count} error finding(s) cannot be set aside: give the opinion not_verified so that the operator"
        " corrects the report and submits a new revision"
    ),
    gettext_noop(
        "{count} warning(s) are unanswered: answer each with POST"
        " /api/v1/verification-jobs/{job}/findings/{{finding}}/acknowledge/ and a note (add"
        " misstatement_co2e to turn it into a misstatement)"
    ),
    gettext_noop("the report has no submitted revision to recalculate"),
    gettext_noop("the job is {status}, not in review"),
    gettext_noop("only the verifier who claimed the job may do this"),
    gettext_noop("no such finding on this job"),
    gettext_noop("only automated findings are answered; your own findings stand as you wrote them"),
    gettext_noop(
        "{code} is an error: it cannot be acknowledged. Give the opinion not_verified so that the"
        " operator corrects the report and submits a new revision"
    ),
    gettext_noop("the finding has already been answered"),
    gettext_noop("a note of at least {count} characters is required"),
    gettext_noop("only a failed job is run again; this one is {status}"),
    gettext_noop("the job is {status} and claimed by another verifier"),
    gettext_noop("the job is {status}"),
    gettext_noop("no line of the revision has this ref"),
    gettext_noop("misstatements are material: the opinion can only be not_verified"),
    gettext_noop("{severity} {code} at {pointer}: {detail}"),
    gettext_noop("unknown finding"),
    gettext_noop("say what you checked"),
    gettext_noop("unknown line ref"),
    gettext_noop("A Unified Social Credit Code has {length} characters, not {given_length}."),
    gettext_noop(
        "A Unified Social Credit Code uses digits and capital letters other than I, O, Z, S, V; found"
        " {illegal}."
    ),
    gettext_noop("The check character of this Unified Social Credit Code should be {expected}, not {given}."),
    gettext_noop("Unavailable: {failing}."),
    gettext_noop("No resource at {path}."),
    gettext_noop("The service failed to answer; the fault is logged."),
    gettext_noop("The metrics need Authorization: Bearer <MRV_METRICS_TOKEN>."),
    gettext_noop("the file has no header row"),
    gettext_noop(
        "the XLSX workbook is damaged: its sheet cannot be read to the end; save it again and retry"
    ),
    gettext_noop(
        "revision {number} is {status}: the checks run on a draft; a submitted revision's findings are those "
        "of its verification job"
    ),
    gettext_noop(
        "the header row must name the columns and include 'source'; download the template from"
        " /api/v1/reports/lines/template/?sector=<sector>&format=csv|xlsx"
    ),
    gettext_noop(
        "the workbook inflates to {size} bytes, more than {max}; import at most {rows} rows per file"
    ),
    gettext_noop(
        "the workbook is compressed more than {ratio}:1, which no activity data needs; refused as a"
        " decompression bomb"
    ),
    gettext_noop("at most {rows} rows per file; split the file and import it in parts"),
    gettext_noop("at most {rows} rows per file, blank rows included; split the file and import it in parts"),
    gettext_noop(
        "the CSV file starts with a UTF-8 mark but is not UTF-8 (byte {byte}); save it as 'CSV UTF-8'"
        " from the spreadsheet program"
    ),
    gettext_noop("row {row}: the CSV file cannot be read ({error}); a cell holds at most {max} characters"),
    gettext_noop("the file is not a readable XLSX workbook"),
    gettext_noop("the workbook has no sheet"),
    gettext_noop("row {row}, column {column}: a cell holds at most {max} characters"),
    gettext_noop("row {row}, column {column}: the cell contains a NUL character; remove it"),
    gettext_noop(
        "the CSV file is neither UTF-8 nor GB18030 (first bad byte at {byte}); save it as 'CSV UTF-8'"
        " from the spreadsheet program"
    ),
)

#: Automated findings (mrv/domain/checks.py): details, values and expectations.
FINDINGS = (
    gettext_noop("{what} is beyond what any facility can physically reach"),
    gettext_noop("{what} looks like {how}"),
    gettext_noop("{value} {unit}, giving {corrected} {band_unit} (band {band})"),
    gettext_noop("share of emissions resting on default parameters"),
    gettext_noop("at most {limit} %"),
    gettext_noop("the stored total differs from the recalculation"),
    gettext_noop("the stored figure differs from the recalculation"),
    gettext_noop("{figure} tCO2e (recalculated)"),
    gettext_noop("no production line gives the {product} output"),
    gettext_noop("no purchased electricity is reported"),
    gettext_noop("direct emissions per tonne of {product} (before exports) outside the sector band"),
    # xgettext:no-python-format
    gettext_noop("direct intensity outside the 5-95 % range of the sector's verified facilities"),
    gettext_noop("{low} to {high} {unit}"),
    gettext_noop("{low} to {high}"),
    gettext_noop("electricity per tonne of {product} outside the sector band"),
    gettext_noop("direct intensity changed by {change} % against {year}"),
    gettext_noop("a change of {band} against {year}"),
    gettext_noop("no line reports {meaning} ({kinds})"),
    gettext_noop("clinker process emissions"),
    gettext_noop("fuel combustion"),
    gettext_noop("process emissions"),
    gettext_noop("anode consumption"),
    gettext_noop("anode effects (PFCs)"),
    gettext_noop("a line of kind {kinds}"),
    gettext_noop("a production line of {product} with its quantity"),
    gettext_noop("an electricity line, unless the plant runs on its own power"),
    gettext_noop("{name} outside its band"),
    gettext_noop("monthly {source} {key} lines cover {count} of 12 months"),
    gettext_noop("a line for each month 1-12"),
    gettext_noop("missing months {months}"),
    gettext_noop("{count} monthly report(s) add up to a different direct total"),
    gettext_noop("{annual} tCO2e (the annual direct total, within {tolerance} %)"),
    gettext_noop("{name} looks like a percentage entered as a fraction"),
    gettext_noop("{fraction} ({percent} %), inside {band}"),
    gettext_noop("the energy of this {fuel} line"),
    gettext_noop("{name} on one line"),
    gettext_noop("{name} of {fuel}"),
    gettext_noop("the {product} output of one facility"),
    gettext_noop("direct emissions per tonne of {product} (before exports)"),
    gettext_noop("direct emissions per tonne of {product} after exports and carbon fixed in products"),
    gettext_noop("at least {limit} {unit}: more cannot leave than was burnt (physical limit)"),
    gettext_noop("electricity per tonne of {product}"),
    gettext_noop("at most {high} {unit} (physical limit)"),
    gettext_noop("{low} to {high} {unit} (physical limit)"),
    gettext_noop("electricity"),
    gettext_noop("the {product} output"),
    gettext_noop("the {name}"),
    gettext_noop("{spelling} entered as {entered}"),
    gettext_noop("{size} times too small"),
    gettext_noop("{size} times too large"),
)

#: Messages of the monitoring plans, the EU MRR methods and the methodology comparison.
OTHERS = (
    gettext_noop(
        "kiln_dust_calcination_fraction describes discarded kiln dust: give kiln_dust (and bypass_dust if"
        " any), or omit kiln_dust_calcination_fraction"
    ),
    gettext_noop("EF_CKD of MRR Annex IV 9 B is undefined for this calcination degree and clinker factor"),
    gettext_noop("{facility} has no approved monitoring plan in force on {date}"),
    gettext_noop("no approved version is valid from this date or earlier"),
    gettext_noop("{plan} lists no {source} source {ref}"),
    gettext_noop("{plan} lists {source} source {ref}; the report has no line for it"),
    gettext_noop("{plan} says {name} of {ref} is measured; the line leaves it to the default"),
    gettext_noop("a source of {plan}"),
    gettext_noop("a source of {plan} ({ref} is planned as {source})"),
    gettext_noop("measured ({plan})"),
    gettext_noop("must be a string"),
    gettext_noop("at most {count} characters"),
    gettext_noop("an object {{determination, method, ...}}"),
    gettext_noop("unknown field; a parameter has {fields}"),
    gettext_noop("one of {choices}"),
    gettext_noop("a tier such as 1, 2, 3 or '2a'"),
    gettext_noop("this field is required"),
    gettext_noop("a list of emission sources"),
    gettext_noop("an object {{ref, source, parameters}}"),
    gettext_noop("unknown field; a source has {fields}"),
    gettext_noop("ref {ref} appears twice"),
    gettext_noop("{source} is not a line kind of this sector ({kinds})"),
    gettext_noop("an object by name"),
    gettext_noop("a decimal number of percent between 0 and 100"),
    gettext_noop("the monitoring plan is not valid"),
    gettext_noop("monitoring plan v{version} is {status}: it cannot be {doing}"),
    gettext_noop(
        "monitoring plan v{version} is {status}: it cannot be {doing}; an approved plan is changed by a"
        " new version"
    ),
    gettext_noop("a monitoring plan without emission sources cannot be submitted"),
    gettext_noop("a returned plan needs a comment"),
    gettext_noop("unknown methodology {code}"),
    gettext_noop("say what the operator must change"),
    gettext_noop("the lines cannot be calculated under every methodology"),
    gettext_noop(
        'give a list of methodology codes, e.g. ["cn-mee-2024", "eu-mrr-2018"] (code@version pins a version)'
    ),
    gettext_noop("at most {count} methodologies at once"),
    gettext_noop("a methodology code is a string"),
    gettext_noop("{code} is listed twice"),
    gettext_noop("the body is a JSON object"),
    gettext_noop("under {methodology}: {detail}"),
)

#: Messages of the evidence files (mrv/services/evidence.py, mrv/api/parsers.py).
EVIDENCE = (
    gettext_noop(
        "an evidence file may have at most {limit} bytes (MRV_MAX_EVIDENCE_BYTES); split or compress it"
    ),
    gettext_noop(
        "revision {number} of report {report} is {status}: its evidence is frozen (covered by its digest); open"
        " a new revision (revise) to add or remove evidence"
    ),
    gettext_noop("line_ref names no line of the draft"),
    gettext_noop("the draft has no line {ref}; its lines are: {refs}"),
    gettext_noop("the file is empty"),
    gettext_noop("one evidence file per request"),
    gettext_noop("{count} files were sent: upload each alone"),
    gettext_noop("the file has no bytes"),
    gettext_noop(
        "the file's content is not an accepted type: send PDF, PNG, JPEG, XLSX, CSV or TXT (UTF-8 or GB18030)"
        " (judged by content, not by name)"
    ),
    gettext_noop(
        "evidence file {number} ({filename}) is missing from storage; the SHA-256 recorded at upload is {sha256}."
        " It is not served; the event is in the audit trail: restore the file from a backup"
    ),
    gettext_noop(
        "evidence file {number} ({filename}) no longer matches the SHA-256 recorded at upload ({sha256}): its"
        " bytes now hash to {found}. It is not served; the event is in the audit trail: restore the file from a"
        " backup"
    ),
    gettext_noop("Multipart form parse error - {detail}"),
)

#: Who may act for whom (issue 16): memberships, jurisdictions, grants and the submitter's sign-off.
AUTHORITY = (
    gettext_noop(
        "Your membership is a preparer: a submitter of the organisation must submit this monitoring plan."
    ),
    gettext_noop(
        "you hold {count} memberships: name the one this request acts for with the header MRV-Membership:"
        " <id> (GET /api/v1/auth/memberships/ lists them), or use a token bound to one"
    ),
    gettext_noop(
        "this token acts for membership {number} only; send no MRV-Membership header with it, or use a"
        " token of the membership you named"
    ),
    gettext_noop(
        "MRV-Membership {value} is not one of your memberships valid now; GET /api/v1/auth/memberships/"
        " lists yours"
    ),
    gettext_noop("{province} is outside your authority's jurisdiction ({provinces})"),
    gettext_noop(
        'Confirm the certification statement to submit: send {{"certify": true}} (GET this URL shows the'
        " statement)"
    ),
    gettext_noop(
        "Your membership is a preparer: a submitter of the organisation must submit and certify this report."
    ),
    gettext_noop("Only a submitter of the facility's operator may grant or revoke a consultant's access."),
    gettext_noop("Only a national authority may change an authority's jurisdiction."),
    gettext_noop("{name} is not a consultant: grants go to consultant organisations"),
    gettext_noop("grants go to consultant organisations"),
    gettext_noop("{name} already has a grant on this facility"),
    gettext_noop("this grant is revoked already"),
    gettext_noop("Only an operator-side membership has a capability and facilities."),
    gettext_noop("Capability must be preparer or submitter."),
    gettext_noop("Facilities {facilities} are not operated by {name}."),
    gettext_noop("valid_until must be after valid_from."),
    gettext_noop("{user} is already a member of {name}."),
    gettext_noop("Unknown province code(s) {codes}: use ISO 3166-2:CN codes (CN-JS)."),
    gettext_noop("Only an authority has a jurisdiction."),
    gettext_noop("A token is bound to one of its own user's memberships."),
    gettext_noop("No facility {number}."),
)

#: Problem titles: the error classes' ``title`` and the HTTP status phrases.
TITLES = (
    gettext_noop("Invalid request"),
    gettext_noop("Invalid input"),
    gettext_noop("The calculation could not be made"),
    gettext_noop("Unknown methodology"),
    gettext_noop("Methodology data is inconsistent"),
    gettext_noop("Method registry is inconsistent"),
    gettext_noop("Conflict with the current state"),
    gettext_noop("Idempotency-Key reused with a different request"),
    gettext_noop("Busy: try again shortly"),
    gettext_noop("Request body too large"),
    gettext_noop("Too many files or fields"),
    gettext_noop("Evidence file too large"),
    gettext_noop("Evidence file type not accepted"),
    gettext_noop("Evidence of a submitted revision is frozen"),
    gettext_noop("Evidence file failed its integrity check"),
    gettext_noop("Malformed request body"),
    gettext_noop("Invalid query parameter"),
    gettext_noop("Service not ready"),
    gettext_noop("Bad Request"),
    gettext_noop("Unauthorized"),
    gettext_noop("Forbidden"),
    gettext_noop("Not Found"),
    gettext_noop("Method Not Allowed"),
    gettext_noop("Not Acceptable"),
    gettext_noop("Conflict"),
    gettext_noop("Request Entity Too Large"),
    gettext_noop("Unsupported Media Type"),
    gettext_noop("Unprocessable Entity"),
    gettext_noop("Too Many Requests"),
    gettext_noop("Internal Server Error"),
    gettext_noop("Service Unavailable"),
    gettext_noop("Webhook URL refused"),
    gettext_noop("Say which membership this request acts for"),
    gettext_noop("No such membership of yours"),
)

#: Names shown beside codes: provinces (mrv.domain.provinces) and sectors (mrv.models.SECTOR_LABELS).
NAMES = (
    gettext_noop("Anhui"),
    gettext_noop("Beijing"),
    gettext_noop("Chongqing"),
    gettext_noop("Fujian"),
    gettext_noop("Guangdong"),
    gettext_noop("Gansu"),
    gettext_noop("Guangxi"),
    gettext_noop("Guizhou"),
    gettext_noop("Henan"),
    gettext_noop("Hubei"),
    gettext_noop("Hebei"),
    gettext_noop("Hainan"),
    gettext_noop("Heilongjiang"),
    gettext_noop("Hunan"),
    gettext_noop("Jilin"),
    gettext_noop("Jiangsu"),
    gettext_noop("Jiangxi"),
    gettext_noop("Liaoning"),
    gettext_noop("Nei Mongol"),
    gettext_noop("Ningxia"),
    gettext_noop("Qinghai"),
    gettext_noop("Sichuan"),
    gettext_noop("Shandong"),
    gettext_noop("Shanghai"),
    gettext_noop("Shaanxi"),
    gettext_noop("Shanxi"),
    gettext_noop("Tianjin"),
    gettext_noop("Xinjiang"),
    gettext_noop("Xizang"),
    gettext_noop("Yunnan"),
    gettext_noop("Zhejiang"),
    gettext_noop("Cement (clinker)"),
    gettext_noop("Iron and steel"),
    gettext_noop("Electrolytic aluminium"),
)

#: The dashboard's texts written in Python (mrv/selectors/dashboard.py).
DASHBOARD = (
    gettext_noop("whole tonnes, rounded {mode}"),
    # xgettext:no-python-brace-format (Chinese has no plural: {plural} is left out)
    gettext_noop("tonnes to {places} decimal place{plural}, rounded {mode}"),
    gettext_noop("half up"),
    gettext_noop("half even"),
)


#: CBAM embedded emissions and the communication to importers (accounting/cbam.py, mrv/services/cbam.py,
#: mrv/selectors/cbam.py).
CBAM = (
    gettext_noop("give either lines or line_refs, not both"),
    gettext_noop("line_refs must be a list of refs of the report's lines"),
    gettext_noop("the report has no line with ref {ref}"),
    gettext_noop("line {ref} is already in process {index}: a line counts in one process"),
    gettext_noop("CBAM data belongs to an annual report"),
    gettext_noop("CBAM data belongs to an annual report (the CBAM period is the year)"),
    gettext_noop(
        "CN code {value} belongs to {category}, not to this process's category {other}; goods of another "
        "category go in a process of their own"
    ),
    gettext_noop(
        "CN code {value} belongs to {category}, which is not a precursor of {other} (its precursors: {choices})"
    ),
    gettext_noop(
        "CN code {value} is not a CBAM good of cement, iron and steel or aluminium (2025/2547 Annex I)"
    ),
    gettext_noop("a good must be an object with cn_code and quantity"),
    gettext_noop("a precursor must be an object with cn_code and quantity"),
    gettext_noop("a production process must be an object"),
    gettext_noop("at most {count} processes"),
    gettext_noop("cbam must be an object"),
    gettext_noop("cn_code must be a CN code of 8 digits (spaces allowed), e.g. 2523 10 00"),
    gettext_noop("give both see_direct and see_indirect (tCO2e/t); {key} is missing"),
    gettext_noop("give either process (made in this installation) or see_direct and see_indirect, not both"),
    gettext_noop("installation must be an object with name and country"),
    gettext_noop("lines must be a list of activity lines"),
    gettext_noop(
        "no actual SEE for CN code {value} from {country} and no verified default value is shipped: give "
        "see_direct and see_indirect (tCO2e/t) from the producer's communication, or process when this "
        "installation makes it"
    ),
    gettext_noop("no process of this installation has ref {ref}"),
    gettext_noop(
        "no verified default grid factor is shipped: give emission_factor (tCO2/MWh) and its basis "
        "(grid_default: the country's value in 2025/2621 Annex II; supplier; ppa)"
    ),
    gettext_noop("process {ref} makes {category}, not {other} like this precursor's CN code"),
    gettext_noop("processes must be a non-empty list of production processes"),
    gettext_noop("ref {ref} is used by an earlier process"),
    gettext_noop(
        "revision {number} of report {report} has no CBAM process data: give a draft of the report a cbam "
        "object (PATCH /api/v1/reports/{report_id}/)"
    ),
    gettext_noop("the goods' quantities add up to zero: the activity level must be positive"),
    gettext_noop(
        "the precursor processes form a cycle ({path}): a process cannot be its own precursor, directly or "
        "through others"
    ),
    gettext_noop("unlocode must be a UN/LOCODE: the country code and 3 letters or digits, e.g. CNSHA"),
    gettext_noop("year must be a whole number from 2023 to 2100"),
    gettext_noop(
        "{source} lines are not direct emissions of a process: give the electricity consumed in electricity "
        "and heat imported or exported in heat"
    ),
    gettext_noop("{key} must be a country code of ISO 3166-1 alpha-2 in capitals, e.g. CN"),
    gettext_noop("{key} must be one of {choices}"),
    gettext_noop("consumed is required: the electricity the process consumed"),
    gettext_noop("quantity is required: the heat in GJ (or TJ, MWh)"),
    gettext_noop("emission_factor is required: the heat's emission factor (tCO2/TJ or tCO2/GJ)"),
    gettext_noop("ncv is required for a quantity in {unit}"),
    gettext_noop("emission_factor is required: the natural gas emission factor (tCO2/TJ)"),
)

#: Messages of the monthly deposits: the regulator's review, the annual check against the accepted months,
#: and the monitoring plan's parameter-table import.
DEPOSITS = (
    gettext_noop(
        "only a monthly report (a deposit) is reviewed by the competent authority; an annual report is "
        "verified by its verification body"
    ),
    gettext_noop("the report has no month"),
    gettext_noop("a returned deposit needs a comment"),
    gettext_noop("the report changed meanwhile: read it again and repeat the review"),
    gettext_noop("a verifier has claimed this deposit's verification job: the verifier's opinion settles it"),
    gettext_noop("verification job {number}"),
    gettext_noop(
        "a deposit with automated error findings cannot be accepted: return it with a comment so that the "
        "operator corrects it"
    ),
    gettext_noop("the automated checks have not finished: review the deposit once they have"),
    gettext_noop("the revision has not been deposited (submitted) yet"),
    gettext_noop("the revision has been settled already: a new revision is reviewed once deposited"),
    gettext_noop(
        "{count} of 12 monthly reports accepted: the annual lines are compared with their sum once all 12 are"
    ),
    gettext_noop("{name} of {ref}: the annual line differs from the sum of the 12 accepted monthly reports"),
    gettext_noop("the accepted monthly reports have a {source} line {ref}; the annual report has none"),
    gettext_noop("accepted months {months}"),
    gettext_noop("12 accepted monthly reports"),
    gettext_noop("{figure} {unit} (the sum of the 12 accepted monthly reports)"),
    gettext_noop("no line"),
    gettext_noop("the file has no parameter rows"),
    gettext_noop("ref {ref} is a {source} source on an earlier row"),
    gettext_noop("parameter {name} of {ref} is on an earlier row"),
)

#: Webhooks (mrv/services/webhooks.py): refusals of a URL, of a subscription, of a redelivery.
WEBHOOKS = (
    gettext_noop("the webhook URL is refused"),
    gettext_noop("the URL must start with https://"),
    gettext_noop("the URL must use https (plain http is allowed in development only)"),
    gettext_noop("the URL must not carry a user name or password: the signature authenticates"),
    gettext_noop("the URL has no host"),
    gettext_noop("the URL is not valid (its host or port cannot be read)"),
    gettext_noop("the host {host} does not resolve"),
    gettext_noop("the host {host} resolves to a {what} address ({address}): give a public https URL"),
    gettext_noop("loopback"),
    gettext_noop("link-local"),
    gettext_noop("unspecified"),
    gettext_noop("multicast"),
    gettext_noop("reserved"),
    gettext_noop("private"),
    gettext_noop("not public"),
    gettext_noop("only a member of an organisation can manage its webhooks"),
    gettext_noop("the events must be a non-empty list of known event types"),
    gettext_noop(
        "delivery {number} is still being tried ({count} tries so far): wait until it is delivered or has failed"
    ),
    gettext_noop("the webhook of this delivery was deleted"),
)

#: The conversation (mrv/services/conversation.py, notifications.py): problems and notifications.
CONVERSATION = (
    gettext_noop("the question is empty"),
    gettext_noop("ask a question"),
    gettext_noop("the due date is in the past"),
    gettext_noop("give today or a later date"),
    gettext_noop("the request is closed: ask the verifier to open a new one if there is more to say"),
    gettext_noop("the answer is empty"),
    gettext_noop("write the answer"),
    gettext_noop("the request is closed already"),
    gettext_noop(
        "{count} request(s) for information of this job are not closed: close each with POST"
        " /api/v1/requests/{{id}}/close/ before giving the opinion"
    ),
    gettext_noop("request {number} is {status}"),
    gettext_noop("a notification is marked read by its user only"),
    gettext_noop("{facility}: the verifier asks for information on the report of {period}"),
    gettext_noop(
        "Request {number}, to answer by {date}: {text}\nAnswer with POST /api/v1/requests/{number}/answers/"
    ),
    gettext_noop("{facility}: the operator answered request {number}"),
    gettext_noop("{text}\nClose it with POST /api/v1/requests/{number}/close/"),
    gettext_noop("{facility}: the verifier closed request {number}"),
    gettext_noop("Request {number} is closed."),
    gettext_noop("Request {number} is closed. {note}"),
    gettext_noop("{facility}: {what} of {period} is due on {date}"),
    gettext_noop(
        "{what} of {period} for {facility} is due on {date} and has not been made. See GET"
        " /api/v1/deadlines/?year={year}"
    ),
    gettext_noop("the monthly deposit"),
    gettext_noop("the annual emission report"),
    gettext_noop("the verification of the annual report"),
    gettext_noop("the surrender of allowances"),
    # evidence files for requests for information (rfievidence)
    gettext_noop("an answer names evidence files of its request or of its report"),
    gettext_noop("this file is named twice"),
    gettext_noop(
        "evidence file {number} is neither a file of this request nor of a submitted revision of this report:"
        " upload it with POST /api/v1/requests/{request}/evidence/"
    ),
    gettext_noop("evidence file {number} is named by an answer to request {request}: it is kept for good"),
    gettext_noop("request {number} is closed: its evidence is final; ask the verifier to open a new request"),
)

#: Allocation and compliance (mrv/domain/allocation.py, mrv/services/allocation.py) and the line's unit.
ALLOCATION = (
    gettext_noop(
        "unit must be a production unit code: letters, digits, '_', '.', '-', at most {max} characters, "
        "starting with a letter or digit"
    ),
    gettext_noop("expected a decimal number"),
    gettext_noop("must be greater than 0"),
    gettext_noop("rules must be an object with a rule per product (clinker, crude_steel, aluminium_liquid)"),
    gettext_noop("a rule names a product: clinker, crude_steel or aluminium_liquid"),
    gettext_noop("method must be verified_emissions or intensity_benchmark"),
    gettext_noop("an intensity_benchmark rule needs benchmark: {{value, unit}} in tCO2/t"),
    gettext_noop("factors must be an object of at most 10 named decimal factors"),
    gettext_noop("a rule has only method, benchmark and factors"),
    gettext_noop("the benchmark unit is tCO2/t (tonnes CO2 per tonne of the product)"),
    gettext_noop("a factor name is lower-case letters, digits and '_'"),
    gettext_noop("a verified_emissions rule takes no benchmark and no factors"),
    gettext_noop("the allocation plan is not valid"),
    gettext_noop("allocation plan {code} is published and immutable: a change is a new plan"),
    gettext_noop("an allocation plan for {year} is already published: one plan per year"),
    gettext_noop("allocation plan {code} is a draft: publish it before allocating under it"),
    gettext_noop("no allocation plan is published for {year}: there is nothing to surrender for yet"),
    gettext_noop(
        "the facility has no verified report for {year} yet: its obligation is its verified direct emissions"
    ),
    gettext_noop("nothing to surrender"),
    gettext_noop("the offsets exceed the limit"),
    gettext_noop("surrender_due must fall after the compliance year it closes"),
    gettext_noop("another allocation plan has this code"),
    gettext_noop("surrender at least one allowance or offset"),
    gettext_noop(
        "offsets may cover at most {limit} allowances of this year's obligation of {figure} in total; "
        "{count} are already surrendered"
    ),
)

#: Every message template (titles and names are looked up as they are).
MESSAGES: tuple[str, ...] = (
    ENGINE
    + SERVICE
    + FINDINGS
    + DASHBOARD
    + OTHERS
    + CBAM
    + EVIDENCE
    + DEPOSITS
    + WEBHOOKS
    + CONVERSATION
    + AUTHORITY
    + ALLOCATION
)
