using System.Globalization;
using System.Text;

namespace Cadre.Personas;

/// <summary>A readable Markdown page about a persona: what it does, how it runs, what it takes and what it answers.</summary>
public static class PersonaCard
{
    public static string Render(PersonaResponse persona)
    {
        ArgumentNullException.ThrowIfNull(persona);
        var card = new StringBuilder();
        card.AppendLine(CultureInfo.InvariantCulture, $"# {persona.Icon}{(persona.Icon is null ? "" : " ")}{Escape(persona.DisplayName!)}");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"`{persona.Name}` · version {persona.Version} · {persona.Status}{Flags(persona)}");
        card.AppendLine();
        if (persona.Description is { } description)
        {
            card.AppendLine(description);
            card.AppendLine();
        }

        if (persona.Departments!.Count + persona.Tags!.Count > 0)
        {
            card.AppendLine(CultureInfo.InvariantCulture, $"**Departments:** {List(persona.Departments)}  ");
            card.AppendLine(CultureInfo.InvariantCulture, $"**Tags:** {List(persona.Tags)}");
            card.AppendLine();
        }

        var model = persona.Model!;
        card.AppendLine("## Model");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"- Provider: {model.Provider ?? "(workspace default)"}, model: {model.Model ?? "(provider default)"}");
        card.AppendLine(CultureInfo.InvariantCulture, $"- Temperature: {model.Temperature?.ToString(CultureInfo.InvariantCulture) ?? "default"}, max tokens: {model.MaxTokens?.ToString(CultureInfo.InvariantCulture) ?? "default"}, reasoning effort: {model.ReasoningEffort ?? "default"}");
        card.AppendLine(CultureInfo.InvariantCulture, $"- Output: {model.OutputFormat}{(model.OutputSchema is null ? "" : " (with a JSON Schema)")}, at most {model.MaxTurns} turns");
        card.AppendLine();

        card.AppendLine("## Instructions");
        card.AppendLine();
        card.AppendLine(Fence(persona.Instructions!));
        card.AppendLine();

        if (persona.Parameters!.Count > 0)
        {
            card.AppendLine("## Parameters");
            card.AppendLine();
            card.AppendLine("| name | type | required | default | description |");
            card.AppendLine("|---|---|---|---|---|");
            foreach (var parameter in persona.Parameters)
            {
                var type = parameter.Type == "enum" ? $"enum ({string.Join(", ", parameter.Values ?? [])})" : parameter.Type;
                card.AppendLine(CultureInfo.InvariantCulture,
                    $"| `{parameter.Name}` | {Cell(type)} | {(parameter.Required == true ? "yes" : "no")} | {Cell(parameter.Default?.ToJsonString())} | {Cell(parameter.Description)} |");
            }

            card.AppendLine();
        }

        if (persona.Skills!.Count > 0 || persona.Guardrails!.References!.Count > 0 || persona.Guardrails.Rules!.Count > 0)
        {
            card.AppendLine("## Skills and guardrails");
            card.AppendLine();
            card.AppendLine(CultureInfo.InvariantCulture, $"- Skills: {List(persona.Skills.Select(s => s.Ref!).ToList())}");
            card.AppendLine(CultureInfo.InvariantCulture, $"- Guardrails: {List(persona.Guardrails!.References!)}");
            foreach (var rule in persona.Guardrails.Rules!)
            {
                card.AppendLine(CultureInfo.InvariantCulture, $"- Rule **{Escape(rule.Name!)}**: {rule.Kind} `{rule.Value}` → {rule.Action}");
            }

            card.AppendLine();
        }

        card.AppendLine("## What it takes on");
        card.AppendLine();
        card.AppendLine(CultureInfo.InvariantCulture, $"- Confidence threshold {persona.Filter!.ConfidenceThreshold?.ToString(CultureInfo.InvariantCulture)}, strategy {persona.Filter.IssueSelectionStrategy}");
        card.AppendLine(CultureInfo.InvariantCulture, $"- Event types: {List(persona.Scope!.EventTypes!)}; sources: {List(persona.Scope.Sources!)}; tags: {List(persona.Scope.Tags!)}");
        card.AppendLine(CultureInfo.InvariantCulture, $"- Memory: {persona.Memory!.Mode}{(persona.Memory.AutoMemory == true ? ", remembers on its own" : "")}{(persona.Memory.Bypass == true ? ", bypassed" : "")}");
        card.AppendLine();

        if (persona.Examples!.Count > 0)
        {
            card.AppendLine("## Examples");
            card.AppendLine();
            for (var i = 0; i < persona.Examples.Count; i++)
            {
                var example = persona.Examples[i];
                card.AppendLine(CultureInfo.InvariantCulture, $"### Example {i + 1}");
                card.AppendLine();
                if (example.Text is { } text)
                {
                    card.AppendLine(Fence(text));
                }
                else
                {
                    card.AppendLine("**Input**");
                    card.AppendLine();
                    card.AppendLine(Fence(example.Input ?? ""));
                    card.AppendLine();
                    card.AppendLine("**Output**");
                    card.AppendLine();
                    card.AppendLine(Fence(example.Output ?? ""));
                }

                card.AppendLine();
            }
        }

        card.AppendLine(CultureInfo.InvariantCulture, $"_Updated {persona.UpdatedAt:u}{(persona.UpdatedBy is { } by ? $" by {Escape(by.Name)}" : "")}._");
        return card.ToString();
    }

    private static string Flags(PersonaResponse persona) => persona.Flags!.Count == 0 ? "" : " · " + string.Join(", ", persona.Flags.Select(f => $"**{f}**"));

    private static string List(IReadOnlyList<string> values) => values.Count == 0 ? "none" : string.Join(", ", values.Select(Escape));

    /// <summary>A fenced block long enough that the text cannot close it early.</summary>
    private static string Fence(string text)
    {
        var fence = "```";
        while (text.Contains(fence, StringComparison.Ordinal))
        {
            fence += "`";
        }

        return $"{fence}text\n{text}\n{fence}";
    }

    private static string Cell(string? value) => value is null ? "" : Escape(value).Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static string Escape(string value) => value.Replace("*", "\\*", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
