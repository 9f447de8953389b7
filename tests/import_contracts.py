"""An import-linter contract that a new adapter cannot fall outside of: `make check` runs it.

`subpackages_independent`: under each parent package, every *subpackage* (an adapter: `provider/tesla/`,
`payment/stripe/`, …) is independent of every other, directly and indirectly, while the parent's plain
modules (the protocol, the registry) stay importable by all of them. The adapters are found in the import
graph on each run, so a package added later is covered without editing the contract.
"""

from __future__ import annotations

from grimp import ImportGraph
from importlinter.application import contract_utils
from importlinter.contracts.independence import IndependenceContract
from importlinter.domain import fields
from importlinter.domain.contract import ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


class SubpackagesIndependentContract(IndependenceContract):
    type_name = "subpackages_independent"

    parents = fields.SetField(subfield=fields.ModuleExpressionField())
    modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        dependencies = set()
        for parent in module_expressions_to_modules(graph, self.parents):  # type: ignore[arg-type]
            adapters = {child for child in graph.find_children(parent.name) if graph.find_children(child)}
            if len(adapters) > 1:
                dependencies |= graph.find_illegal_dependencies_for_layers(layers=(adapters,))
        return ContractCheck(
            kept=not dependencies,
            warnings=list(removal.warnings),
            ignored_import_count=removal.ignored_import_count,
            metadata={"invalid_chains": self._build_invalid_chains(dependencies, graph)},
        )
