using Cadre.Analytics;

namespace Cadre.Tests.Analytics;

public sealed class DurationSketchTests
{
    private static long Exact(List<long> sorted, double quantile) => sorted[(int)Math.Floor(quantile * (sorted.Count - 1))];

    [Fact]
    public void Quantiles_AreWithinOnePercentOfTheExactValue_OverManyScales()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 20_000).Select(_ => (long)Math.Exp(random.NextDouble() * 20)).ToList();
        var sketch = new DurationSketch();
        values.ForEach(v => sketch.Add(v));
        values.Sort();

        foreach (var quantile in new[] { 0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1 })
        {
            var exact = Exact(values, quantile);
            sketch.Quantile(quantile)!.Value.ShouldBe(exact, exact * DurationSketch.RelativeAccuracy, $"q{quantile}");
        }
    }

    [Fact]
    public void MergedParts_AnswerAsTheWhole_AndTakingBackUndoes()
    {
        var random = new Random(5);
        var values = Enumerable.Range(0, 5_000).Select(_ => (long)random.Next(0, 3_600_000)).ToList();
        var whole = new DurationSketch();
        var merged = new DurationSketch();
        for (var i = 0; i < values.Count; i++)
        {
            whole.Add(values[i]);
            // Each part goes through text, as rollup rows store it.
            var part = new DurationSketch();
            part.Add(values[i]);
            merged.MergeText(part.Serialize());
        }

        merged.Serialize().ShouldBe(whole.Serialize());
        var extra = new DurationSketch();
        extra.Add(42_000);
        extra.Add(0);
        merged.Merge(extra);
        merged.Add(42_000, -1);
        merged.Add(0, -1);
        merged.Serialize().ShouldBe(whole.Serialize());
        merged.Count.ShouldBe(values.Count);
    }

    [Fact]
    public void Empty_AnswersNull_AndSerializesToNothing()
    {
        var sketch = new DurationSketch();
        sketch.Quantile(0.5).ShouldBeNull();
        sketch.Serialize().ShouldBeNull();
        sketch.Add(250);
        sketch.Add(250, -1);
        sketch.Serialize().ShouldBeNull();
        DurationSketch.Parse(null).Count.ShouldBe(0);
    }

    [Fact]
    public void Zeros_AreCountedApart()
    {
        var sketch = DurationSketch.Parse("z:3,100:1");
        sketch.Count.ShouldBe(4);
        sketch.Quantile(0.5).ShouldBe(0);
        sketch.Quantile(1)!.Value.ShouldBeGreaterThan(0);
    }
}
