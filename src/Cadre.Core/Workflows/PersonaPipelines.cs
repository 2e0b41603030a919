using System.Text.Json.Nodes;
using Cadre.Common;

namespace Cadre.Workflows;

/// <summary>
/// The designer → checker → optimizer loop as ordinary steps: a <c>pipeline</c> loop whose body is
/// <c>design</c>, <c>check</c> (a JSON verdict) and, with an optimizer, <c>optimize</c>, repeated until
/// the checker approves or <c>maxIterations</c>; then <c>result</c> holds the last draft and the verdict.
/// Expanded when saved and shown expanded, so what runs is visible and diffable like any workflow.
/// </summary>
public static class PersonaPipelines
{
    public const string DefaultInput = "{{ context.body.prompt }}";

    private static readonly JsonObject Verdict = JsonNode.Parse("""
        {"type": "object", "additionalProperties": false, "required": ["approved", "feedback"],
         "properties": {"approved": {"type": "boolean"}, "feedback": {"type": "string"}}}
        """)!.AsObject();

    public static List<WorkflowStep> Expand(PersonaPipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var task = pipeline.Input ?? DefaultInput;
        var optimizer = pipeline.Optimizer;
        var latestDraft = optimizer is null ? "steps.design.output.text" : "steps.optimize.output.text ?? steps.design.output.text";
        var body = optimizer is null ? new[] { "design", "check" } : ["design", "check", "optimize"];
        var steps = new List<WorkflowStep>
        {
            new()
            {
                Id = "pipeline",
                Name = "Persona pipeline",
                Activity = Activity("loop"),
                Input = new JsonObject(),
                DependsOn = [],
                OnFailure = "abort",
                IsSleep = false,
                Loop = new LoopSpec
                {
                    Body = body,
                    Until = new JsonObject { ["{{ steps.check.output.json.approved }}"] = new JsonObject { ["~eq"] = true } },
                    MaxIterations = pipeline.MaxIterations ?? 3,
                },
            },
            Agent("design", "Design", pipeline.Designer, ["pipeline"], null,
                $"{task}{{{{ steps.check.output.json.feedback == null ? '' : '\\n\\nA reviewer read your previous draft:\\n' + steps.check.output.json.feedback + '\\n\\nThe draft:\\n' + ({latestDraft}) }}}}"),
            Agent("check", "Check", pipeline.Checker, ["design"], pipeline.CheckerInstructions,
                $"Review this draft for the task below. Approve it only if it needs no change; otherwise say what to change.\n\nTask: {task}\n\nDraft:\n{{{{ steps.design.output.text }}}}",
                Verdict),
        };
        if (optimizer is not null)
        {
            steps.Add(Agent("optimize", "Optimize", optimizer, ["check"], pipeline.OptimizerInstructions,
                "Improve the draft using the reviewer's notes.\n\nDraft:\n{{ steps.design.output.text }}\n\nNotes:\n{{ steps.check.output.json.feedback }}"));
        }

        steps.Add(new WorkflowStep
        {
            Id = "result",
            Name = "Result",
            Activity = Activity("transform"),
            Input = new JsonObject
            {
                ["text"] = $"{{{{ {latestDraft} }}}}",
                ["approved"] = "{{ steps.check.output.json.approved }}",
                ["feedback"] = "{{ steps.check.output.json.feedback }}",
            },
            DependsOn = ["pipeline", .. body],
            OnFailure = "abort",
            IsSleep = false,
        });
        return steps;
    }

    internal static void Validate(PersonaPipeline pipeline, ValidationErrors errors)
    {
        if (pipeline.Designer?.Persona is null)
        {
            errors.Add("personaPipeline.designer.persona", "Is required: the persona that drafts.");
        }

        if (pipeline.Checker?.Persona is null)
        {
            errors.Add("personaPipeline.checker.persona", "Is required: the persona that reviews.");
        }

        if (pipeline.MaxIterations is < 1 or > 50)
        {
            errors.Add("personaPipeline.maxIterations", "Must be between 1 and 50.");
        }

        WorkflowRules.Length(pipeline.CheckerInstructions, "personaPipeline.checkerInstructions", 10_000, errors);
        WorkflowRules.Length(pipeline.OptimizerInstructions, "personaPipeline.optimizerInstructions", 10_000, errors);
        if (pipeline.OptimizerInstructions is not null && pipeline.Optimizer is null)
        {
            errors.Add("personaPipeline.optimizerInstructions", "There is no optimizer to give them to.");
        }
    }

    private static ActivityReference Activity(string id) =>
        new() { UniqueIdentifier = id, Version = ActivityRegistry.All[id].Latest.Version, AutoUpgradeToLatestVersion = false };

    private static WorkflowStep Agent(string id, string name, PipelineStage? stage, string[] dependsOn, string? instructions, string prompt, JsonObject? outputSchema = null)
    {
        var input = new JsonObject { ["prompt"] = prompt };
        if (stage?.Persona is { } persona)
        {
            input["persona"] = persona;
        }

        if (instructions is not null)
        {
            input["instructions"] = instructions;
        }

        if (stage?.Model is { } model)
        {
            input["model"] = PersonaJsonModel(model);
        }

        if (outputSchema is not null)
        {
            input["outputFormat"] = "json";
            input["outputSchema"] = outputSchema.DeepClone();
        }

        return new WorkflowStep
        {
            Id = id,
            Name = name,
            Activity = Activity("agent"),
            Input = input,
            DependsOn = dependsOn,
            OnFailure = "abort",
            IsSleep = false,
        };
    }

    private static JsonObject PersonaJsonModel(PipelineModelOverride model)
    {
        var result = new JsonObject();
        if (model.Provider is not null)
        {
            result["provider"] = model.Provider;
        }

        if (model.Model is not null)
        {
            result["model"] = model.Model;
        }

        if (model.Temperature is not null)
        {
            result["temperature"] = model.Temperature;
        }

        if (model.MaxTokens is not null)
        {
            result["maxTokens"] = model.MaxTokens;
        }

        return result;
    }
}
