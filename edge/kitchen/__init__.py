"""Kitchen rules: no_hat, no_mask, rodent, uncovered_food and camera health, as pure logic.

Functions of frames, detections and time only (no threads, no I/O, no wall clock):
tracker (IouTracker) -> scene (SceneTracker: people with head/face, rodents, food) -> rules
(NoHatRule, NoMaskRule, RodentRule, UncoveredFoodRule) and health (CameraHealth), each driving
incidents (Condition -> IncidentEvent start / update / end); schedule, area and zones decide
where and when a rule applies; engine (KitchenRuleEngine) runs them all for one camera; config
holds the `kitchen` YAML section and build turns it into engines; messages turns incident events
into the contracts' ViolationEvent / ViolationEnd.

Exceptions: edge.errors.EdgeError
    └── KitchenConfigError  the kitchen section cannot be built (`problems`: "key.path: reason")
"""
