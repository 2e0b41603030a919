using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// The reliability and security battery (docs/reliability.md) comes in two sizes: reduced in the
/// README's <c>dotnet test</c> (and so in CI), full on demand (<c>bench/battery.sh</c> sets
/// <c>CADRE_BATTERY=full</c>). Each item is a test class tagged <c>[Trait("Battery", "N")]</c>.
/// </summary>
public static class BatteryScale
{
    public const string SettingName = "CADRE_BATTERY";

    /// <summary>Where each item appends its figures as a JSON line (bench/battery.sh renders them into docs/reliability.md).</summary>
    public const string ReportSettingName = "CADRE_BATTERY_REPORT";

    public static bool IsFull => string.Equals(Environment.GetEnvironmentVariable(SettingName), "full", StringComparison.OrdinalIgnoreCase);

    public static string Size => IsFull ? "full" : "reduced";

    public static int Pick(int reduced, int full) => IsFull ? full : reduced;
}

/// <summary>
/// An item too slow for CI (minutes of load, or a database restarted under other tests): reported as
/// skipped, never passed, unless <c>CADRE_BATTERY=full</c>.
/// </summary>
public sealed class OnDemandFactAttribute : FactAttribute
{
    public OnDemandFactAttribute()
    {
        if (!BatteryScale.IsFull)
        {
            Skip = $"on demand: bench/battery.sh ({BatteryScale.SettingName}=full)";
        }
    }
}

/// <summary>The figures one battery item prints: in the test's output, and as a JSON line for the report.</summary>
public static class BatteryReport
{
    private static readonly Lock FileLock = new();

    /// <summary>A reliability item's figures: what was attempted, and what of it succeeded, was lost, ran twice or never ended.</summary>
    public static void Reliability(ITestOutputHelper output, int item, string scenario, long attempted, long succeeded, long lost, long duplicated, long stuck,
        params (string Name, object Value)[] more) =>
        Write(output, item, scenario, [("attempted", attempted), ("succeeded", succeeded), ("lost", lost), ("duplicated", duplicated), ("stuck", stuck), .. more]);

    /// <summary>Any item's figures, in the order given.</summary>
    public static void Write(ITestOutputHelper output, int item, string scenario, params (string Name, object Value)[] figures)
    {
        ArgumentNullException.ThrowIfNull(output);
        var text = string.Join(", ", figures.Select(f => $"{f.Name} {Format(f.Value)}"));
        output.WriteLine($"battery {item} {scenario} ({BatteryScale.Size}): {text}");
        if (Environment.GetEnvironmentVariable(BatteryScale.ReportSettingName) is not { Length: > 0 } path)
        {
            return;
        }

        var line = JsonSerializer.Serialize(new
        {
            item,
            scenario,
            size = BatteryScale.Size,
            at = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            figures = text,
        });
        lock (FileLock)
        {
            File.AppendAllText(path, line + "\n");
        }
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString("0.##", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
