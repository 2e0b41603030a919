using System.Text.Json.Nodes;

namespace Cadre.Personas;

/// <summary>
/// What a persona is: the body of create and import, the document of versions and drafts, and
/// (with its identity) the answer of get. Every field is optional on the way in; defaults fill
/// what is left out (see <see cref="PersonaRules"/>).
/// </summary>
public record PersonaSpec
{
    /// <summary>Unique slug in the workspace: 3–63 lowercase letters, digits and dashes.</summary>
    public string? Name { get; init; }

    /// <summary>The full name people see (1–100 characters).</summary>
    public string? DisplayName { get; init; }

    /// <summary>What the persona is for (at most 2000 characters).</summary>
    public string? Description { get; init; }

    /// <summary>An http(s) image URL.</summary>
    public string? AvatarUrl { get; init; }

    /// <summary>A hex colour: <c>#1f6feb</c> or <c>#18f</c>.</summary>
    public string? Color { get; init; }

    /// <summary>An emoji or icon name (at most 64 characters).</summary>
    public string? Icon { get; init; }

    /// <summary>The system prompt (at most 100 000 characters); may use the persona's parameters as <c>{{ params.name }}</c>.</summary>
    public string? Instructions { get; init; }

    /// <summary>Example exchanges (<c>input</c> and <c>output</c>) or texts (<c>text</c>), at most 50.</summary>
    public IReadOnlyList<PersonaExample>? Examples { get; init; }

    public IReadOnlyList<string>? Departments { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>Typed values the instructions are rendered with.</summary>
    public IReadOnlyList<PersonaParameter>? Parameters { get; init; }

    public PersonaModel? Model { get; init; }

    /// <summary>Tools the persona may call, by reference (checked against the skills registry when it exists).</summary>
    public IReadOnlyList<SkillReference>? Skills { get; init; }

    public PersonaGuardrails? Guardrails { get; init; }

    public PersonaMemory? Memory { get; init; }

    /// <summary>How the persona picks, among candidate items, the ones it takes on.</summary>
    public PersonaFilter? Filter { get; init; }

    /// <summary>Which events the persona answers.</summary>
    public PersonaScope? Scope { get; init; }

    public PersonaVoice? Voice { get; init; }

    /// <summary>Markers such as <c>disabled</c> or <c>experimental</c> (lowercase slugs).</summary>
    public IReadOnlyList<string>? Flags { get; init; }

    /// <summary>Free JSON for integrations (at most 64 KiB).</summary>
    public JsonObject? Metadata { get; init; }
}

/// <summary>An example: an exchange (<see cref="Input"/> and <see cref="Output"/>) or a text.</summary>
public sealed record PersonaExample
{
    public string? Input { get; init; }

    public string? Output { get; init; }

    public string? Text { get; init; }
}

/// <summary>A typed field of the persona, referenced in the instructions as <c>{{ params.name }}</c>.</summary>
public sealed record PersonaParameter
{
    /// <summary>An identifier: a letter or underscore, then letters, digits, underscores (at most 64).</summary>
    public string? Name { get; init; }

    /// <summary><c>string</c>, <c>number</c>, <c>boolean</c>, <c>enum</c> or <c>json</c>.</summary>
    public string? Type { get; init; }

    public string? Description { get; init; }

    /// <summary>Used when no value is given; must have the parameter's type.</summary>
    public JsonNode? Default { get; init; }

    /// <summary>A required parameter without a default must be given a value.</summary>
    public bool? Required { get; init; }

    /// <summary>For <c>enum</c>: the allowed values.</summary>
    public IReadOnlyList<string>? Values { get; init; }
}

/// <summary>The model the persona runs on.</summary>
public sealed record PersonaModel
{
    /// <summary>e.g. <c>openai</c>, <c>anthropic</c>, <c>mock</c>; an unknown one is accepted with a warning.</summary>
    public string? Provider { get; init; }

    public string? Model { get; init; }

    /// <summary>0–2.</summary>
    public double? Temperature { get; init; }

    /// <summary>1–1 000 000.</summary>
    public int? MaxTokens { get; init; }

    /// <summary><c>low</c>, <c>medium</c> or <c>high</c>.</summary>
    public string? ReasoningEffort { get; init; }

    /// <summary><c>text</c> (default), <c>markdown</c> or <c>json</c>.</summary>
    public string? OutputFormat { get; init; }

    /// <summary>For <c>json</c> output: the JSON Schema answers must follow.</summary>
    public JsonObject? OutputSchema { get; init; }

    /// <summary>Tool-calling turns before the persona must answer: 1–100 (default 10).</summary>
    public int? MaxTurns { get; init; }
}

/// <summary>A tool the persona may call.</summary>
public sealed record SkillReference
{
    /// <summary>The skill's ID or name.</summary>
    public string? Ref { get; init; }

    /// <summary>Settings for this persona's use of the skill.</summary>
    public JsonObject? Config { get; init; }
}

/// <summary>Guardrails by reference, and rules of the persona's own.</summary>
public sealed record PersonaGuardrails
{
    public IReadOnlyList<string>? References { get; init; }

    public IReadOnlyList<GuardrailRule>? Rules { get; init; }
}

/// <summary>An inline guardrail rule.</summary>
public sealed record GuardrailRule
{
    public string? Name { get; init; }

    /// <summary><c>deny_pattern</c>, <c>require_pattern</c> (a regular expression), <c>deny_topic</c> (a phrase) or <c>max_output_chars</c> (a number).</summary>
    public string? Kind { get; init; }

    public string? Value { get; init; }

    /// <summary><c>block</c> (default), <c>warn</c> or <c>redact</c>.</summary>
    public string? Action { get; init; }
}

public sealed record PersonaMemory
{
    /// <summary><c>none</c> (default), <c>session</c> or <c>persistent</c>.</summary>
    public string? Mode { get; init; }

    /// <summary>Remember salient facts without being told to.</summary>
    public bool? AutoMemory { get; init; }

    /// <summary>Ignore stored memory for this persona's runs.</summary>
    public bool? Bypass { get; init; }
}

public sealed record PersonaFilter
{
    /// <summary>0–1 (default 0.5): below it the persona does not take an item on.</summary>
    public double? ConfidenceThreshold { get; init; }

    /// <summary><c>highest_confidence</c> (default), <c>first_match</c>, <c>all_above_threshold</c> or <c>round_robin</c>.</summary>
    public string? IssueSelectionStrategy { get; init; }
}

public sealed record PersonaScope
{
    /// <summary>Event types it answers, such as <c>ticket.created</c>; <c>*</c> wildcards allowed.</summary>
    public IReadOnlyList<string>? EventTypes { get; init; }

    public IReadOnlyList<string>? Sources { get; init; }

    public IReadOnlyList<string>? Tags { get; init; }
}

public sealed record PersonaVoice
{
    public string? Id { get; init; }

    public string? Name { get; init; }

    public JsonObject? Metadata { get; init; }
}
