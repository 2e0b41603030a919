using Cadre.Runs;
using Cadre.Storage;

namespace Cadre.Tests.Storage;

public sealed class LeaseRotationTests
{
    private static RunTask Task(string workspace) => new() { WorkspaceId = workspace, RunId = "run", StepId = "s", Kind = "step", Status = "leased" };

    [Fact]
    public void NextTurnAfter_NothingLeased_KeepsTheCursor() =>
        StorageProvider.NextTurnAfter("ws_b", []).ShouldBe("ws_b");

    [Fact]
    public void NextTurnAfter_OneTurnEach_StopsAtTheLastInRotation_CountingTheWrap()
    {
        // From after ws_b: ws_c, ws_d, then around to ws_a.
        StorageProvider.NextTurnAfter("ws_b", [Task("ws_a"), Task("ws_c"), Task("ws_d")]).ShouldBe("ws_a");
        StorageProvider.NextTurnAfter("", [Task("ws_a"), Task("ws_c"), Task("ws_d")]).ShouldBe("ws_d");
    }

    [Fact]
    public void NextTurnAfter_MoreTurnsForSome_StopsAtTheLastOfTheLastTurn()
    {
        // ws_c1 ws_a1 ws_c2 ws_a2 ws_c3: ws_c took the last turn, so ws_a goes first next time.
        StorageProvider.NextTurnAfter("ws_b", [Task("ws_a"), Task("ws_a"), Task("ws_c"), Task("ws_c"), Task("ws_c")]).ShouldBe("ws_c");
        // ws_c1 ws_a1 ws_c2 ws_a2: ws_a's second turn came last.
        StorageProvider.NextTurnAfter("ws_b", [Task("ws_a"), Task("ws_a"), Task("ws_c"), Task("ws_c")]).ShouldBe("ws_a");
    }
}
