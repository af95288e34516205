-- Argo CD health of an EventPipeline (argocd-cm: resource.customizations.health.eap.dev_EventPipeline),
-- from the conditions the operator writes. Healthy: Ready is True for the current generation.
-- Degraded: a person must act (the spec is invalid, or the migration Job failed; the previous image
-- keeps serving). Progressing: anything else, the operator is still getting there (migrations
-- running, a rollout, pods not yet available), as Argo CD judges a Deployment.
local hs = {}
local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report on this EventPipeline"
  return hs
end
if obj.metadata.generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < obj.metadata.generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. obj.metadata.generation
  return hs
end
local ready = nil
local migrations = nil
for _, condition in ipairs(status.conditions) do
  if condition.type == "Ready" then ready = condition end
  if condition.type == "MigrationsComplete" then migrations = condition end
end
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
if ready.reason == "InvalidSpec" then
  hs.status = "Degraded"
  hs.message = "Invalid spec: " .. ready.message
  return hs
end
if migrations ~= nil and migrations.status == "False" and migrations.reason == "MigrationJobFailed" then
  hs.status = "Degraded"
  hs.message = migrations.message
  return hs
end
hs.status = "Progressing"
hs.message = ready.reason .. ": " .. ready.message
return hs
