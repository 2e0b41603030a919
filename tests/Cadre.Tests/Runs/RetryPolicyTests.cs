using System.Text.Json;
using Cadre.Common;
using Cadre.Runs;
using Cadre.Workflows;

namespace Cadre.Tests.Runs;

public sealed class RetryPolicyTests
{
    private static RunState State(string json)
    {
        var spec = JsonSerializer.Deserialize<WorkflowSpec>(json, StrictJson.Options)!;
        var compiled = CompiledWorkflow.Compile("wf_1", 1, spec);
        var run = new Run
        {
            Id = "run_1", WorkspaceId = "ws_1", WorkflowId = "wf_1", WorkflowVersion = 1, Number = 1, DisplayId = "T-1",
            Status = "running", TriggerType = "manual", Input = "{}", Context = "{}", Links = "{}",
        };
        var steps = spec.Steps!.Select(s => new RunStep { RunId = "run_1", StepId = s.Id!, Status = "pending", Iteration = 1 }).ToList();
        return new RunState(run, steps, compiled, [], new DateTime(2026, 11, 24, 0, 0, 0, DateTimeKind.Utc));
    }

    [Fact]
    public void RetryPolicyFor_TakesTheStepsThenTheWorkflowsThenTheBuiltInDefaults()
    {
        var state = State("""
            {"name": "p", "defaults": {"retryPolicy": {"maximumAttempts": 7, "initialInterval": "2s"}},
             "steps": [
               {"id": "own", "activity": {"uniqueIdentifier": "http"}, "retryPolicy": {"maximumAttempts": 0, "nonRetryableErrors": ["http_404"]}},
               {"id": "inherits", "activity": {"uniqueIdentifier": "http"}}]}
            """);

        var own = RunEngine.RetryPolicyFor(state, "own");
        var inherits = RunEngine.RetryPolicyFor(state, "inherits");

        own.MaximumAttempts.ShouldBe(0);
        own.InitialInterval.ShouldBe("2s");
        own.NonRetryableErrors.ShouldBe(["http_404"]);
        inherits.MaximumAttempts.ShouldBe(7);
        inherits.BackoffCoefficient.ShouldBe(2);
        inherits.MaximumInterval.ShouldBe("1m");
    }

    [Theory]
    [InlineData(1, 1000)]
    [InlineData(2, 2000)]
    [InlineData(3, 4000)]
    public void Backoff_GrowsByTheCoefficient_WithinTwentyPercentJitter(int attempt, double expectedMs)
    {
        var policy = new RetryPolicy { InitialInterval = "1s", BackoffCoefficient = 2, MaximumInterval = "1m" };

        var delays = Enumerable.Range(0, 200).Select(_ => RunEngine.Backoff(policy, attempt).TotalMilliseconds).ToList();

        delays.ShouldAllBe(d => d >= expectedMs * 0.8 && d <= expectedMs * 1.2);
        delays.Distinct().Count().ShouldBeGreaterThan(1, "jitter spreads retries of many runs");
    }

    [Fact]
    public void Backoff_NeverExceedsTheMaximumInterval()
    {
        var policy = new RetryPolicy { InitialInterval = "1s", BackoffCoefficient = 10, MaximumInterval = "5s" };

        Enumerable.Range(1, 30).Select(attempt => RunEngine.Backoff(policy, attempt)).ShouldAllBe(d => d <= TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void IdempotencyKey_NamesRunStepAttempt_ThenIterationAndCompensation()
    {
        ActivityContext.KeyFor("run_1", "charge", 2, 1).ShouldBe("run_1/charge/2");
        ActivityContext.KeyFor("run_1", "charge", 1, 3).ShouldBe("run_1/charge/1/3");
        ActivityContext.KeyFor("run_1", "charge", 1, 1, compensation: true).ShouldBe("run_1/charge/1/compensation");
    }

    [Fact]
    public void Readiness_WaitsForEveryDependency_AndTreatsSkippedAndContinuedFailuresAsDone()
    {
        var state = State("""
            {"name": "p", "steps": [
              {"id": "a", "activity": {"uniqueIdentifier": "transform"}},
              {"id": "b", "activity": {"uniqueIdentifier": "http"}, "onFailure": "continue"},
              {"id": "c", "activity": {"uniqueIdentifier": "transform"}, "dependsOn": ["a", "b"]}]}
            """);

        state.IsReady("c").ShouldBeFalse();
        state.Steps["a"].Status = "skipped";
        state.IsReady("c").ShouldBeFalse();
        state.Steps["b"].Status = "failed";
        state.IsReady("c").ShouldBeTrue();
    }

    [Fact]
    public void RunLog_Link_SetsTheRunsLinks_AndEmitsALinkEvent()
    {
        var state = State("""{"name": "p", "steps": [{"id": "open-pr", "activity": {"uniqueIdentifier": "http"}}]}""");
        var log = new RunLog();
        log.Link("pullRequest", new Uri("https://github.com/acme/app/pull/7"));

        RunEngine.EmitLog(state, "open-pr", log);

        state.Run.Links.ShouldBe("""{"pullRequest":"https://github.com/acme/app/pull/7"}""");
        var emitted = state.NewEvents.ShouldHaveSingleItem();
        emitted.Type.ShouldBe("link");
        emitted.Data.ShouldContain("\"stepId\":\"open-pr\"");
    }
}
