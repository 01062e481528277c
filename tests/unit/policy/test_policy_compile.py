"""`rules apply` checks: syntax, ids, scope, templates, strict validation; then compiling."""

from __future__ import annotations

import pytest

from dome.errors import ConfigError
from dome.policy import (
    PolicyFileError,
    PolicySource,
    Scope,
    compile_policy_set,
    parse_scope,
)
from dome.policy.sources import split_policies

from .worlds import GRANT_CHEAP, sources

GOOD = """// Acme's rules.

// Cheap models for everyone at acme.
@id("acme.cheap-reasoning")
permit (principal in Tenant::"acme", action in Action::"access", resource in Pool::"cheap-reasoning");

@id("acme.support-bot.no-gpt-4o")
@reason("the support bot must not use GPT-4o; it leaks tone")
forbid (principal == Agent::"support-bot", action, resource)
when { resource.family like "gpt-4o*" };  // trailing note; "quoted; text"

@id("acme.research.cap")
@reason("research calls are capped at 200k tokens")
forbid (principal in Workspace::"research", action == Action::"invoke", resource)
when { context.estimated_tokens > 200000 && context.region != "x;y" };
"""


def _problems(text: str, scope: str = "tenant:acme") -> list[str]:
    with pytest.raises(PolicyFileError) as caught:
        sources(text, scope)
    assert isinstance(caught.value, ConfigError)
    assert str(caught.value) == "\n".join(map(str, caught.value.problems))
    return [str(p) for p in caught.value.problems]


def test_a_good_file_gives_one_source_per_policy_with_its_line_and_own_text() -> None:
    found = sources(GOOD, "tenant:acme")
    assert [(s.id, s.line, s.file, s.scope) for s in found] == [
        ("acme.cheap-reasoning", 4, "rules.cedar", Scope("tenant", "acme")),
        ("acme.support-bot.no-gpt-4o", 7, "rules.cedar", Scope("tenant", "acme")),
        ("acme.research.cap", 12, "rules.cedar", Scope("tenant", "acme")),
    ]
    assert found[0].text.startswith("// Cheap models for everyone at acme.\n@id(")
    assert found[1].text.startswith('@id("acme.support-bot.no-gpt-4o")')
    assert found[1].text.endswith('like "gpt-4o*" };')
    assert found[2].text.endswith('context.region != "x;y" };')


def test_splitting_ignores_semicolons_in_strings_and_comments() -> None:
    chunks = split_policies('// a; b\n@id("x;y") permit(principal, action, resource)\n;\n\n// end;')
    assert [(c.line, c.terminated) for c in chunks] == [(2, True)]
    assert chunks[0].text == '// a; b\n@id("x;y") permit(principal, action, resource)\n;'
    escaped = split_policies('@id("a\\";") permit(principal, action, resource); @id("b")')
    assert [c.text for c in escaped] == [
        '@id("a\\";") permit(principal, action, resource);',
        '@id("b")',
    ]
    assert not escaped[1].terminated


def test_an_empty_file_has_no_policies() -> None:
    assert sources("// nothing yet\n", "tenant:acme") == []


def test_missing_id_is_refused_with_file_and_line() -> None:
    text = GRANT_CHEAP + '\npermit (principal in Tenant::"acme", action, resource);\n'
    assert _problems(text) == [
        'rules.cedar:5: the policy has no @id("...") annotation; every policy needs a unique one'
    ]


def test_duplicate_and_malformed_ids_are_refused() -> None:
    text = (
        GRANT_CHEAP
        + GRANT_CHEAP
        + '@id("has space")\npermit (principal in Tenant::"acme", action, resource);'
    )
    assert _problems(text) == [
        'rules.cedar:5: policy "acme.cheap-reasoning": @id is used twice in this file (first at line 2)',
        'rules.cedar:7: policy "has space": @id must be letters, digits and _ . : / @ - (no spaces)',
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '@id("a")\npermit (principal, action, resource)\nwhen {\n  context.hour > \n};',
            "rules.cedar:5: syntax error: unexpected token `}`",
        ),
        (
            '@id("a")\npermit (principal, action, resource)\nwhen {\n  foo(context.hour)\n};',
            "rules.cedar:4: syntax error: `foo` is not a valid function",
        ),
        (
            '@id("a")\nallow (principal, action, resource);',
            "rules.cedar:1: syntax error: invalid policy effect: allow",
        ),
        (
            '@id("a") permit (principal, action, resource);\n\n@id("b")\npermit (principal, action, resource)',
            (
                "rules.cedar:4: syntax error: unexpected end of input "
                "(is the `;` after the last policy missing?)"
            ),
        ),
        (
            '@id("a") @id("b") permit (principal, action, resource);',
            "rules.cedar:1: syntax error: duplicate annotation: @id",
        ),
    ],
)
def test_syntax_errors_name_the_file_and_the_line(text: str, expected: str) -> None:
    assert _problems(text, "platform") == [expected]


def test_every_broken_policy_in_a_file_is_reported() -> None:
    text = '@id("a") permit (principal, action resource);\n@id("b") forbid (principal, action, resource) when { # };'
    assert _problems(text, "platform") == [
        "rules.cedar:1: syntax error: unexpected token `resource`",
        "rules.cedar:2: syntax error: invalid token",
    ]


@pytest.mark.parametrize(
    ("scope", "principal", "problem"),
    [
        (
            "tenant:acme",
            'principal in Tenant::"globex"',
            'principal Tenant::"globex" is outside scope tenant:acme',
        ),
        (
            "tenant:acme",
            'principal in Workspace::"gx-lab"',
            'principal Workspace::"gx-lab" is outside scope tenant:acme',
        ),
        (
            "tenant:acme",
            'principal == Agent::"gx-bot"',
            'principal Agent::"gx-bot" is outside scope tenant:acme',
        ),
        ("tenant:acme", "principal", "the principal is unconstrained; at scope tenant:acme write"),
        ("tenant:acme", "principal is Agent", "the principal is unconstrained"),
        (
            "tenant:acme",
            'principal in Workspace::"ghost"',
            'principal Workspace::"ghost" does not exist',
        ),
        (
            "tenant:acme",
            'principal in Pool::"frontier"',
            'principal Pool::"frontier" is not an Agent, Workspace or Tenant',
        ),
        (
            "workspace:research",
            'principal in Tenant::"acme"',
            "is outside scope workspace:research",
        ),
        (
            "workspace:research",
            'principal in Workspace::"sandbox"',
            "is outside scope workspace:research",
        ),
        (
            "workspace:research",
            'principal == Agent::"tinker"',
            "is outside scope workspace:research",
        ),
        ("agent:planner", 'principal in Workspace::"research"', "is outside scope agent:planner"),
        ("agent:planner", 'principal == Agent::"analyst"', "is outside scope agent:planner"),
        ("agent:planner", "principal", "unconstrained; at scope agent:planner write"),
    ],
)
def test_principals_outside_the_scope_are_refused(scope: str, principal: str, problem: str) -> None:
    text = f'\n\n@id("p")\nforbid ({principal}, action, resource);'
    (found,) = _problems(text, scope)
    assert found.startswith('rules.cedar:3: policy "p": ')
    assert problem in found


@pytest.mark.parametrize(
    ("scope", "principal"),
    [
        ("tenant:acme", 'principal in Tenant::"acme"'),
        ("tenant:acme", 'principal in Workspace::"support"'),
        ("tenant:acme", 'principal == Agent::"planner"'),
        ("tenant:acme", 'principal is Agent in Workspace::"sandbox"'),
        ("workspace:research", 'principal in Workspace::"research"'),
        ("workspace:research", 'principal == Agent::"analyst"'),
        ("agent:planner", 'principal == Agent::"planner"'),
        ("platform", "principal"),
        ("platform", 'principal in Tenant::"globex"'),
    ],
)
def test_principals_inside_the_scope_are_accepted(scope: str, principal: str) -> None:
    (found,) = sources(f'@id("p")\nforbid ({principal}, action, resource);', scope)
    assert found.scope == parse_scope(scope)


def test_templates_are_platform_only() -> None:
    template = '@id("grant")\npermit (principal in ?principal, action in Action::"access", resource in ?resource);'
    assert [s.id for s in sources(template, "platform")] == ["grant"]
    (found,) = _problems(template.replace("?principal", 'Tenant::"acme"'), "tenant:acme")
    assert "templates (?principal, ?resource) are platform-only" in found


def test_an_unknown_scope_is_refused() -> None:
    assert _problems(GRANT_CHEAP, "tenant:initech") == [
        "rules.cedar: scope tenant:initech does not exist"
    ]


def test_strict_validation_errors_name_the_policy_and_the_offending_line() -> None:
    text = GOOD + (
        '\n@id("acme.typo")\nforbid (principal in Tenant::"acme", action, resource)\n'
        "when {\n  context.estimated_token > 5\n};\n"
        '\n@id("acme.string-order")\nforbid (principal in Tenant::"acme", action, resource)\n'
        "when { context.classification > 2 };\n"
    )
    assert _problems(text) == [
        (
            'rules.cedar:20: policy "acme.typo": attribute `estimated_token` in context for '
            'Action::"count_tokens" not found (also for Action::"embed", Action::"invoke", '
            'Action::"list_models")'
        ),
        'rules.cedar:23: policy "acme.string-order": unexpected type: expected Long but saw String',
    ]


def test_validation_catches_unknown_types_and_attributes() -> None:
    text = (
        '@id("p.team")\npermit (principal in Team::"x", action, resource);\n'
        '@id("p.attr")\npermit (principal, action, resource)\n'
        "when { principal.workspace.nothing == 1 };"
    )
    assert _problems(text, "platform") == [
        (
            'rules.cedar:1: policy "p.team": unable to find an applicable action given the '
            "policy scope constraints"
        ),
        'rules.cedar:2: policy "p.team": unrecognized entity type `Team`',
        'rules.cedar:5: policy "p.attr": attribute `nothing` on entity type `Workspace` not found',
    ]


def test_compile_keys_the_set_by_id_and_keeps_reasons() -> None:
    compiled = compile_policy_set(sources(GOOD, "tenant:acme"))
    assert [p.id for p in compiled.policies] == [
        "acme.cheap-reasoning",
        "acme.research.cap",
        "acme.support-bot.no-gpt-4o",
    ]
    assert compiled.reasons == {
        "acme.research.cap": "research calls are capped at 200k tokens",
        "acme.support-bot.no-gpt-4o": "the support bot must not use GPT-4o; it leaks tone",
    }
    assert [p.effect for p in compiled.policies] == ["permit", "forbid", "forbid"]
    assert '"acme.cheap-reasoning":{' in compiled.est_json
    assert len(compiled.digest) == 64


def test_the_digest_depends_on_content_and_scope_not_order_or_comments() -> None:
    found = sources(GOOD, "tenant:acme")
    digest = compile_policy_set(found).digest
    assert compile_policy_set(reversed(found)).digest == digest
    recommented = [PolicySource(s.id, s.scope, "// hi\n" + s.text) for s in found]
    assert compile_policy_set(recommented).digest == digest
    rescoped = [PolicySource(s.id, Scope("platform"), s.text) for s in found]
    assert compile_policy_set(rescoped).digest != digest
    changed = [
        *found[:2],
        PolicySource(found[2].id, found[2].scope, found[2].text.replace("200000", "1")),
    ]
    assert compile_policy_set(changed).digest != digest


def test_an_id_used_in_two_files_names_both() -> None:
    first = sources(GRANT_CHEAP, "tenant:acme", file="a.cedar")
    second = sources(GRANT_CHEAP, "tenant:acme", file="b.cedar")
    with pytest.raises(ConfigError) as caught:
        compile_policy_set([*first, *second])
    assert caught.value.message == (
        'policy id "acme.cheap-reasoning" is used twice: a.cedar:2 (tenant:acme) '
        "and b.cedar:2 (tenant:acme)"
    )


def test_compile_refuses_sources_that_are_not_one_matching_policy() -> None:
    scope = Scope("tenant", "acme")
    two = PolicySource("x", scope, '@id("x") permit(principal, action, resource);' * 2)
    with pytest.raises(ConfigError, match="holds 2 policies, not one"):
        compile_policy_set([two])
    mismatch = PolicySource("x", scope, '@id("y") permit(principal, action, resource);')
    with pytest.raises(ConfigError, match="its @id is 'y'"):
        compile_policy_set([mismatch])
    broken = PolicySource("x", scope, '@id("x") permit(principal, action, resource')
    with pytest.raises(ConfigError, match='<generated> \\(tenant:acme\\): policy "x"'):
        compile_policy_set([broken])
    template = PolicySource(
        "x", scope, '@id("x") permit(principal == ?principal, action, resource);'
    )
    with pytest.raises(ConfigError, match="templates are platform-only"):
        compile_policy_set([template])
