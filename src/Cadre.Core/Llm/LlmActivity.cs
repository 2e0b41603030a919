using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Common;
using Cadre.Personas;
using Cadre.Runs;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Cadre.Llm;

/// <summary>
/// <c>llm</c>: one completion, streamed. The system prompt is the step's <c>system</c>, else the
/// persona's instructions (their parameters at their defaults); then the step's <c>messages</c>, then
/// its <c>prompt</c> as the user's turn. Provider and model: the step's, else the persona's, else the
/// provider's default model. With <c>outputSchema</c> the answer must be JSON following it. Tokens stream
/// as <c>message_delta</c> events; the whole answer is a <c>message</c> event, the usage a <c>usage</c>
/// event, and the cost is added to the run.
/// </summary>
internal sealed class LlmActivity(IServiceScopeFactory scopes, ChatClients clients) : IActivity
{
    public string Name => "llm";

    public bool IsPure => false;

    public async Task<ActivityOutcome> ExecuteAsync(ActivityContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var input = context.Input as JsonObject ?? [];
        await using var scope = scopes.CreateAsyncScope();
        PersonaResponse? persona = null;
        if ((string?)input["persona"] is { } personaRef)
        {
            persona = await scope.ServiceProvider.GetRequiredService<PersonaService>().GetAsync(context.WorkspaceId, personaRef, cancellationToken);
            if (persona is null)
            {
                return ActivityOutcome.Failure("persona_not_found", $"No persona '{personaRef}' in this workspace (renamed or deleted?).", retryable: false);
            }
        }

        var stepModel = input["model"] as JsonObject;
        var providerName = (string?)stepModel?["provider"] ?? persona?.Model?.Provider;
        if (providerName is null)
        {
            return ActivityOutcome.Failure("provider_missing", "Name a provider in the step's model.provider or use a persona that has one.", retryable: false);
        }

        var resolved = await scope.ServiceProvider.GetRequiredService<ProviderService>().ResolveAsync(context.WorkspaceId, providerName, cancellationToken);
        if (resolved.Value is not { } provider)
        {
            return ActivityOutcome.Failure("provider_unavailable", resolved.Error!.Detail, retryable: false);
        }

        var model = (string?)stepModel?["model"] ?? persona?.Model?.Model ?? provider.DefaultModel;
        if (model is null)
        {
            return ActivityOutcome.Failure("model_missing", $"Name a model in the step's model.model, the persona, or provider '{provider.Name}''s defaultModel.", retryable: false);
        }

        if (provider.Kind == "mock" && MockChatClient.Check(model) is { } scriptProblem)
        {
            return ActivityOutcome.Failure("invalid_model", scriptProblem, retryable: false);
        }

        var schema = input["outputSchema"] as JsonObject ?? (persona?.Model?.OutputFormat == "json" ? persona.Model.OutputSchema : null);
        var options = new ChatOptions
        {
            Temperature = (float?)(double?)stepModel?["temperature"] ?? (float?)persona?.Model?.Temperature,
            MaxOutputTokens = (int?)stepModel?["maxTokens"] ?? persona?.Model?.MaxTokens,
            ResponseFormat = schema is null ? null : ChatResponseFormat.ForJsonSchema(JsonSerializer.SerializeToElement(schema), "answer"),
        };
        using var client = clients.Create(provider, model, options.MaxOutputTokens);
        var text = new StringBuilder();
        UsageDetails? usage = null;
        long costNanos = 0;
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(Messages(input, persona), options, cancellationToken))
            {
                if (update.Text is { Length: > 0 } delta)
                {
                    text.Append(delta);
                    if (context.Stream is { } stream)
                    {
                        await stream.DeltaAsync(delta, cancellationToken);
                    }
                }

                foreach (var content in update.Contents.OfType<UsageContent>())
                {
                    usage = content.Details;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Past the provider pipeline's own retries: a retry of the step may still help, unless the provider refused the request itself.
            return ActivityOutcome.Failure("provider_error", $"Provider '{provider.Name}' failed: {ex.Message}", retryable: !IsRefusal(ex));
        }
        finally
        {
            if (usage is not null || text.Length > 0)
            {
                costNanos = await RecordUsageAsync(context, scope, provider.Name, model, usage);
            }
        }

        var answer = text.ToString();
        context.Log.Message("assistant", answer);
        var output = new JsonObject { ["text"] = answer, ["provider"] = provider.Name, ["model"] = model, ["usage"] = UsageJson(usage), ["cost"] = Money.Usd(costNanos) };
        if (schema is not null)
        {
            if (JsonOutput.Parse(answer) is not { } json)
            {
                return ActivityOutcome.Failure("invalid_output", "The model was asked for JSON and answered something else.", retryable: true, new JsonObject { ["text"] = answer });
            }

            if (JsonSchemas.Validate(schema, json) is { Count: > 0 } problems)
            {
                return ActivityOutcome.Failure("invalid_output", $"The model's JSON does not follow the output schema: {string.Join("; ", problems)}", retryable: true,
                    new JsonObject { ["json"] = json.DeepClone() });
            }

            output["json"] = json;
        }

        return ActivityOutcome.Success(output);
    }

    // Runs even when the call failed or was cancelled part-way: what was used was paid for.
    private static async Task<long> RecordUsageAsync(ActivityContext context, AsyncServiceScope scope, string provider, string model, UsageDetails? usage)
    {
        var input = usage?.InputTokenCount ?? 0;
        var output = usage?.OutputTokenCount ?? 0;
        var cached = usage?.CachedInputTokenCount ?? 0;
        var price = await scope.ServiceProvider.GetRequiredService<PriceTable>().ForAsync(context.WorkspaceId, model, CancellationToken.None);
        var cost = price.CostNanos(input, output, cached);
        context.Log.Usage(provider, model, input, output, cached, cost);
        return cost;
    }

    private static JsonObject UsageJson(UsageDetails? usage) => new()
    {
        ["inputTokens"] = usage?.InputTokenCount ?? 0,
        ["outputTokens"] = usage?.OutputTokenCount ?? 0,
        ["cachedInputTokens"] = usage?.CachedInputTokenCount ?? 0,
    };

    private static List<ChatMessage> Messages(JsonObject input, PersonaResponse? persona)
    {
        var messages = new List<ChatMessage>();
        var system = (string?)input["system"] ?? Instructions(persona);
        if (!string.IsNullOrWhiteSpace(system))
        {
            messages.Add(new ChatMessage(ChatRole.System, system));
        }

        foreach (var message in (input["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            messages.Add(new ChatMessage(new ChatRole((string)message["role"]!), (string?)message["content"]));
        }

        if ((string?)input["prompt"] is { Length: > 0 } prompt)
        {
            messages.Add(new ChatMessage(ChatRole.User, prompt));
        }

        return messages;
    }

    private static string? Instructions(PersonaResponse? persona)
    {
        if (persona?.Instructions is not { } instructions)
        {
            return null;
        }

        var defaults = (persona.Parameters ?? []).Where(p => p.Name is not null).ToDictionary(p => p.Name!, p => p.Default?.DeepClone(), StringComparer.Ordinal);
        return PromptTemplate.Parse(instructions).Render(defaults);
    }

    /// <summary>A 4xx other than 408 and 429: the request itself is wrong (a bad key, an unknown model), and sending it again will not help.</summary>
    private static bool IsRefusal(Exception ex)
    {
        var status = ex switch
        {
            System.ClientModel.ClientResultException result => result.Status,
            _ => ex.GetType().GetProperty("StatusCode")?.GetValue(ex) is { } code ? Convert.ToInt32(code, System.Globalization.CultureInfo.InvariantCulture) : 0,
        };
        return status is >= 400 and < 500 and not 408 and not 429;
    }
}

/// <summary>JSON a model wrote, read leniently: models like to wrap it in a Markdown code fence.</summary>
internal static class JsonOutput
{
    public static JsonNode? Parse(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = trimmed.IndexOf('\n', StringComparison.Ordinal);
            var closing = trimmed.LastIndexOf("```", StringComparison.Ordinal);
            trimmed = firstLine > 0 && closing > firstLine ? trimmed[(firstLine + 1)..closing] : trimmed;
        }

        try
        {
            return JsonNode.Parse(trimmed);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
