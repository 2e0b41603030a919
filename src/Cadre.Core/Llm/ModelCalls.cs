using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Personas;
using Cadre.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// What a model step calls, from its input over its persona: provider, model, options and the
/// schema answers must follow. Shared by <c>llm</c> and <c>agent</c>.
/// </summary>
internal sealed record ModelCall(PersonaResponse? Persona, ResolvedProvider Provider, string Model, ChatOptions Options, JsonObject? OutputSchema)
{
    /// <summary>The call, or the failure that says why it cannot be made (none of which a retry would fix).</summary>
    public static async Task<(ModelCall? Call, ActivityOutcome? Failure)> ResolveAsync(
        ActivityContext context, JsonObject input, IServiceProvider services, CancellationToken cancellationToken)
    {
        PersonaResponse? persona = null;
        if (((string?)input["persona"] ?? WorkflowSetting(context, "executingAgent") as string) is { } personaRef)
        {
            persona = await services.GetRequiredService<PersonaService>().GetAsync(context.WorkspaceId, personaRef, cancellationToken);
            if (persona is null)
            {
                return (null, ActivityOutcome.Failure("persona_not_found", $"No persona '{personaRef}' in this workspace (renamed or deleted?).", retryable: false));
            }
        }

        var stepModel = input["model"] as JsonObject;
        var providerName = (string?)stepModel?["provider"] ?? persona?.Model?.Provider;
        if (providerName is null)
        {
            return (null, ActivityOutcome.Failure("provider_missing", "Name a provider in the step's model.provider or use a persona that has one.", retryable: false));
        }

        var resolved = await services.GetRequiredService<ProviderService>().ResolveAsync(context.WorkspaceId, providerName, cancellationToken);
        if (resolved.Value is not { } provider)
        {
            return (null, ActivityOutcome.Failure("provider_unavailable", resolved.Error!.Detail, retryable: false));
        }

        var model = (string?)stepModel?["model"] ?? persona?.Model?.Model ?? provider.DefaultModel;
        if (model is null)
        {
            return (null, ActivityOutcome.Failure("model_missing", $"Name a model in the step's model.model, the persona, or provider '{provider.Name}''s defaultModel.", retryable: false));
        }

        if (provider.Kind == "mock" && MockChatClient.Check(model) is { } scriptProblem)
        {
            return (null, ActivityOutcome.Failure("invalid_model", scriptProblem, retryable: false));
        }

        var format = (string?)input["outputFormat"] ?? persona?.Model?.OutputFormat;
        var schema = input["outputSchema"] as JsonObject ?? (format == "json" ? persona?.Model?.OutputSchema : null);
        var options = new ChatOptions
        {
            Temperature = (float?)(double?)stepModel?["temperature"] ?? (float?)persona?.Model?.Temperature,
            MaxOutputTokens = (int?)stepModel?["maxTokens"] ?? persona?.Model?.MaxTokens,
            ResponseFormat = schema is not null ? ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(schema), "answer")
                : format == "json" ? ChatResponseFormat.Json
                : null,
        };
        return (new ModelCall(persona, provider, model, options, schema), null);
    }

    /// <summary>A value of the run's workflow (<c>executingAgent</c>, <c>skillIds</c>, <c>guardrailIds</c>): a string, a list of strings, or null.</summary>
    public static object? WorkflowSetting(ActivityContext context, string name) => context.Scope.Root("workflow")?[name] switch
    {
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonArray items => items.Select(i => (string?)i).OfType<string>().ToList(),
        _ => null,
    };

    /// <summary>The persona's instructions with its parameters filled: the step's values over the defaults.</summary>
    public string? Instructions(JsonObject? parameters)
    {
        if (Persona?.Instructions is not { } instructions)
        {
            return null;
        }

        var values = (Persona.Parameters ?? []).Where(p => p.Name is not null).ToDictionary(p => p.Name!, p => p.Default?.DeepClone(), StringComparer.Ordinal);
        foreach (var (name, value) in parameters ?? [])
        {
            values[name] = value?.DeepClone();
        }

        return PromptTemplate.Parse(instructions).Render(values);
    }
}

/// <summary>Streaming one model turn, pricing it, and telling failures apart.</summary>
internal static class ModelTurns
{
    /// <summary>
    /// Streams one answer into <paramref name="updates"/> (the caller's, so a failure part-way still
    /// leaves what arrived, for the usage record), sending its text to the run's subscribers.
    /// </summary>
    public static async Task StreamAsync(
        IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions options, IRunStream? stream, List<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        await foreach (var update in client.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            updates.Add(update);
            if (update.Text is { Length: > 0 } delta && stream is not null)
            {
                await stream.DeltaAsync(delta, cancellationToken);
            }
        }

        if (stream is not null)
        {
            await stream.FlushAsync(cancellationToken);
        }
    }

    /// <summary>The usage the updates report (the last report wins: providers send a running total).</summary>
    public static UsageDetails? Usage(IEnumerable<ChatResponseUpdate> updates) =>
        updates.SelectMany(u => u.Contents.OfType<UsageContent>()).LastOrDefault()?.Details;

    /// <summary>Records one call's usage in the attempt's log at the workspace's price; answers the cost in billionths of a dollar.</summary>
    public static async Task<long> RecordUsageAsync(ActivityContext context, IServiceProvider services, ModelCall call, UsageDetails? usage)
    {
        var model = call.Model;
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        var cached = usage?.CachedInputTokenCount ?? 0;
        // Not cancellable: this runs after a halt too, and what was used was paid for.
        var price = await services.GetRequiredService<PriceTable>().ForAsync(context.WorkspaceId, model, CancellationToken.None);
        var cost = price.CostNanos(input, output, cached);
        context.Log.Usage(call.Provider.Name, model, input, output, cached, cost, call.Persona?.Id, call.Persona?.Version);
        // The provider's kind, not its name: names are the workspaces' own, and a metric's labels must stay few.
        services.GetRequiredService<Observability.CadreMetrics>().ModelUsed(call.Provider.Kind, model, input, output, cost);
        return cost;
    }

    public static JsonObject UsageJson(long input, long output, long cached) => new()
    {
        ["inputTokens"] = input,
        ["outputTokens"] = output,
        ["cachedInputTokens"] = cached,
    };

    /// <summary>
    /// A provider failure as the attempt's outcome: retryable unless the provider refused the request itself,
    /// or the outbound guard did (a workspace provider's address is internal: no retry will change that). The
    /// guard's reason is given whatever the SDK wrapped it in (Anthropic's says only "I/O exception").
    /// </summary>
    public static ActivityOutcome Failure(ResolvedProvider provider, Exception ex) =>
        Net.OutboundRefusedException.In(ex) is { } refused
            ? ActivityOutcome.Failure("provider_error", $"Provider '{provider.Name}' failed: {refused.Message}", retryable: false)
            : ActivityOutcome.Failure("provider_error", $"Provider '{provider.Name}' failed: {provider.WithoutKey(ex.Message)}", retryable: !IsRefusal(ex));

    /// <summary>A 4xx other than 408 and 429: the request itself is wrong (a bad key, an unknown model), and sending it again will not help.</summary>
    private static bool IsRefusal(Exception ex)
    {
        var status = ex switch
        {
            System.ClientModel.ClientResultException result => result.Status,
            // Anthropic's SDK exceptions carry the status as StatusCode.
            _ => ex.GetType().GetProperty("StatusCode")?.GetValue(ex) is { } code ? Convert.ToInt32(code, System.Globalization.CultureInfo.InvariantCulture) : 0,
        };
        return status is >= 400 and < 500 and not 408 and not 429;
    }

    /// <summary>Checks an answer against the schema: the parsed JSON, or why it is not acceptable.</summary>
    public static (JsonNode? Json, string? Problem) Check(JsonObject schema, string answer)
    {
        if (JsonOutput.Parse(answer) is not { } json)
        {
            return (null, "The answer is not JSON.");
        }

        return JsonSchemas.Validate(schema, json) is { Count: > 0 } problems
            ? (json, $"The JSON does not follow the output schema: {string.Join("; ", problems)}")
            : (json, null);
    }
}
