using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Llm;

/// <summary>Cadre's money: billionths of a US dollar in storage, dollars in the API.</summary>
public static class Money
{
    public static decimal Usd(long nanos) => nanos / 1_000_000_000m;

    /// <summary>Dollars per million tokens (as people write prices) in millionths of a dollar, or null past six decimals or out of range.</summary>
    public static long? MicrosPerMtok(decimal usdPerMtok) =>
        usdPerMtok is < 0 or > ModelPrice.MaxUsdPerMtok || decimal.Round(usdPerMtok, 6) != usdPerMtok ? null : (long)(usdPerMtok * 1_000_000m);
}

/// <summary>What a model costs, in dollars per million tokens, and where the figure comes from.</summary>
public sealed record ModelPrice(string Model, decimal Input, decimal Output, decimal CachedInput, string Source)
{
    public const decimal MaxUsdPerMtok = 10_000m;

    /// <summary>
    /// The cost of one call, in billionths of a dollar. <paramref name="inputTokens"/> counts every
    /// token read, cached ones included (OpenAI's convention); the cached share is billed at its own price.
    /// </summary>
    public long CostNanos(long inputTokens, long outputTokens, long cachedInputTokens)
    {
        var cached = Math.Clamp(cachedInputTokens, 0, Math.Max(inputTokens, 0));
        // Tokens × dollars per million tokens = millionths of a dollar; × 1 000 gives billionths.
        var micros = ((inputTokens - cached) * Input) + (cached * CachedInput) + (outputTokens * Output);
        return (long)decimal.Round(micros * 1_000m, MidpointRounding.AwayFromZero);
    }
}

/// <summary>
/// List prices for the models Cadre knows (US dollars per million tokens, as published by OpenAI and
/// Anthropic in 2025), with each workspace's own prices over them. A model the table does not know
/// costs nothing until someone prices it: the usage is still counted.
/// </summary>
internal sealed class PriceTable(CadreDbContext db)
{
    public static IReadOnlyDictionary<string, (decimal Input, decimal Output, decimal CachedInput)> BuiltIn { get; } =
        new Dictionary<string, (decimal, decimal, decimal)>(StringComparer.Ordinal)
        {
            ["gpt-5"] = (1.25m, 10m, 0.125m),
            ["gpt-5-mini"] = (0.25m, 2m, 0.025m),
            ["gpt-5-nano"] = (0.05m, 0.40m, 0.005m),
            ["gpt-4.1"] = (2m, 8m, 0.50m),
            ["gpt-4.1-mini"] = (0.40m, 1.60m, 0.10m),
            ["gpt-4.1-nano"] = (0.10m, 0.40m, 0.025m),
            ["gpt-4o"] = (2.50m, 10m, 1.25m),
            ["gpt-4o-mini"] = (0.15m, 0.60m, 0.075m),
            ["o3"] = (2m, 8m, 0.50m),
            ["o3-mini"] = (1.10m, 4.40m, 0.55m),
            ["o4-mini"] = (1.10m, 4.40m, 0.275m),
            ["claude-opus-4-1"] = (15m, 75m, 1.50m),
            ["claude-opus-4-0"] = (15m, 75m, 1.50m),
            ["claude-sonnet-4-5"] = (3m, 15m, 0.30m),
            ["claude-sonnet-4-0"] = (3m, 15m, 0.30m),
            ["claude-3-7-sonnet"] = (3m, 15m, 0.30m),
            ["claude-haiku-4-5"] = (1m, 5m, 0.10m),
            ["claude-3-5-haiku"] = (0.80m, 4m, 0.08m),
        };

    /// <summary>The price a call on <paramref name="model"/> is billed at in the workspace.</summary>
    public async Task<ModelPrice> ForAsync(string workspaceId, string model, CancellationToken cancellationToken)
    {
        var own = await db.ModelPrices.AsNoTracking().Where(p => p.WorkspaceId == workspaceId && p.Model == model).FirstOrDefaultAsync(cancellationToken);
        if (own is not null)
        {
            return FromOverride(own);
        }

        return Lookup(model) is { } builtIn
            ? new ModelPrice(model, builtIn.Price.Input, builtIn.Price.Output, builtIn.Price.CachedInput, "builtin")
            : new ModelPrice(model, 0, 0, 0, "unpriced");
    }

    /// <summary>Every price the workspace bills at: the built-in table with the workspace's own over it, by model.</summary>
    public async Task<IReadOnlyList<ModelPrice>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        var own = await db.ModelPrices.AsNoTracking().Where(p => p.WorkspaceId == workspaceId).ToListAsync(cancellationToken);
        var prices = BuiltIn.ToDictionary(p => p.Key, p => new ModelPrice(p.Key, p.Value.Input, p.Value.Output, p.Value.CachedInput, "builtin"), StringComparer.Ordinal);
        foreach (var price in own)
        {
            prices[price.Model] = FromOverride(price);
        }

        return [.. prices.Values.OrderBy(p => p.Model, StringComparer.Ordinal)];
    }

    internal static ModelPrice FromOverride(ModelPriceOverride price) => new(
        price.Model, price.InputMicrosPerMtok / 1_000_000m, price.OutputMicrosPerMtok / 1_000_000m, price.CachedInputMicrosPerMtok / 1_000_000m, "workspace");

    /// <summary>
    /// The built-in entry for a model name as providers report it: exact, else without a router's
    /// <c>vendor/</c> prefix, else the longest entry it extends with a dash (a dated snapshot such
    /// as <c>gpt-4o-2024-08-06</c> or <c>claude-sonnet-4-5-20250929</c>).
    /// </summary>
    internal static (string Model, (decimal Input, decimal Output, decimal CachedInput) Price)? Lookup(string model)
    {
        foreach (var name in new[] { model, model[(model.LastIndexOf('/') + 1)..] })
        {
            if (BuiltIn.TryGetValue(name, out var exact))
            {
                return (name, exact);
            }

            var extended = BuiltIn.Keys.Where(k => name.StartsWith(k + "-", StringComparison.Ordinal)).OrderByDescending(k => k.Length).FirstOrDefault();
            if (extended is not null)
            {
                return (extended, BuiltIn[extended]);
            }
        }

        return null;
    }
}
