// distill_fold (distill.cpp) for a group: prepare every job, train the prepared members together,
// finish every job that trained. See distill_group.h.
#include "train/distill_group.h"

#include <fmt/format.h>

#include "common/error.h"

namespace ppgkd {

std::vector<GroupJobResult> distill_group(const DistillData& data,
                                          const std::vector<DistillJob>& jobs,
                                          const GroupHooks& hooks) {
  std::vector<GroupJobResult> results(jobs.size());
  TeacherOutputsMemo memo;
  std::vector<PreparedStudent> prepared;
  std::vector<size_t> which;  // job index of each member
  std::vector<Net> nets;
  std::vector<GroupMember> members;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const DistillJob& job = jobs[i];
    if (job.student != jobs[0].student)
      throw Error("group", fmt::format("job {} trains {}, not the group's {}", i, job.student.str(),
                                       jobs[0].student.str()));
    try {
      PreparedStudent p = prepare_student(data, job, &memo);
      GroupMember m;
      m.cfg = job.train;
      m.loss = p.loss;
      if (p.projector) {
        m.extra_modules.push_back(p.projector.ptr());
        m.feature_stage = job.distill.student_stage;
      }
      m.fit_rows = p.rows.fit_rows;
      m.val_rows = p.rows.val_rows;
      m.state_dir = job.out_dir;
      // The checkpoint also belongs to this distillation (distill-identity.json's facts).
      m.identity = {{"distillation", job.distill.to_json()},
                    {"teacher_outputs_key", p.teacher_cache.key}};
      nets.push_back(init_model(job.student, job.train.seed));
      members.push_back(std::move(m));
      prepared.push_back(std::move(p));
      which.push_back(i);
    } catch (const Error& e) {
      results[i].error = e.what();
    }
  }
  if (members.empty()) return results;
  auto trained = train_group(*data.ws, nets, members, jobs[which[0]].resume, hooks);
  for (size_t j = 0; j < members.size(); ++j) {
    auto& r = results[which[j]];
    if (!trained[j].ok) {
      r.error = trained[j].error;
      continue;
    }
    try {
      r.result = finish_student(data, jobs[which[j]], prepared[j], *nets[j], trained[j].result);
      r.ok = true;
    } catch (const Error& e) {
      r.error = e.what();
    }
  }
  return results;
}

}  // namespace ppgkd
