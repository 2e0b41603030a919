// Each class starts a server and a browser; on two cores, one class at a time keeps them responsive.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
