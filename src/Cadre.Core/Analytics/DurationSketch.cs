using System.Globalization;
using System.Text;

namespace Cadre.Analytics;

/// <summary>
/// A mergeable summary of durations that answers quantiles within 1 % of the true value: DDSketch
/// (Masson, Rim and Lee, VLDB 2019). Values fall into logarithmic bins of ratio γ = (1 + α) / (1 − α),
/// and a bin's estimate 2γⁱ / (γ + 1) is within α of every value in it; sketches add bin by bin, and
/// take away the same way, which is what rollups over quarter hours need. Written here because no
/// .NET implementation is served, and the whole algorithm is the two formulas above.
/// </summary>
internal sealed class DurationSketch
{
    public const double RelativeAccuracy = 0.01;

    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double LogGamma = Math.Log(Gamma);

    // Unordered, so that merging a year of rows costs a hash look-up per bin rather than a tree walk;
    // the few readers that need the bins in order sort them.
    private readonly Dictionary<int, long> _bins = [];
    private long _zeros;

    public long Count => _zeros + _bins.Values.Sum();

    /// <summary>Adds <paramref name="count"/> durations of <paramref name="milliseconds"/> (a negative count takes them away).</summary>
    public void Add(long milliseconds, long count = 1)
    {
        if (milliseconds <= 0)
        {
            _zeros += count;
            return;
        }

        AddToBin(Index(milliseconds), count);
    }

    public void Merge(DurationSketch other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _zeros += other._zeros;
        foreach (var (index, count) in other._bins)
        {
            AddToBin(index, count);
        }
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0–1) in milliseconds: the value of rank ⌊q·(n − 1)⌋ among the
    /// n durations counted, within <see cref="RelativeAccuracy"/>; null when none are.
    /// </summary>
    public double? Quantile(double quantile)
    {
        var count = Count;
        if (count <= 0)
        {
            return null;
        }

        var rank = (long)Math.Floor(quantile * (count - 1));
        var seen = _zeros;
        if (seen > rank)
        {
            return 0;
        }

        foreach (var (index, binCount) in _bins.OrderBy(b => b.Key))
        {
            seen += binCount;
            if (seen > rank)
            {
                return 2 * Math.Pow(Gamma, index) / (Gamma + 1);
            }
        }

        return 2 * Math.Pow(Gamma, _bins.Keys.Max()) / (Gamma + 1);
    }

    /// <summary><c>z:zeros,index:count,…</c>, or null when empty (rollup rows without runs store nothing).</summary>
    public string? Serialize()
    {
        if (_zeros == 0 && _bins.Count == 0)
        {
            return null;
        }

        var text = new StringBuilder();
        if (_zeros != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"z:{_zeros}");
        }

        foreach (var (index, count) in _bins.OrderBy(b => b.Key))
        {
            text.Append(text.Length == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{index}:{count}");
        }

        return text.ToString();
    }

    public static DurationSketch Parse(string? text)
    {
        var sketch = new DurationSketch();
        sketch.MergeText(text);
        return sketch;
    }

    /// <summary>Adds a serialized sketch without building another.</summary>
    public void MergeText(string? text)
    {
        // Read in place (no Split): a year's answer merges tens of thousands of rows' sketches.
        var rest = text.AsSpan();
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            var pair = comma < 0 ? rest : rest[..comma];
            rest = comma < 0 ? [] : rest[(comma + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            var colon = pair.IndexOf(':');
            var count = long.Parse(pair[(colon + 1)..], CultureInfo.InvariantCulture);
            if (pair[0] == 'z')
            {
                _zeros += count;
            }
            else
            {
                AddToBin(int.Parse(pair[..colon], CultureInfo.InvariantCulture), count);
            }
        }
    }

    private static int Index(long milliseconds) => (int)Math.Ceiling(Math.Log(milliseconds) / LogGamma);

    private void AddToBin(int index, long count)
    {
        ref var total = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_bins, index, out _);
        total += count;
        if (total == 0)
        {
            _bins.Remove(index);
        }
    }
}
