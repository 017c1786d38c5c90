// Activity segments of the recording protocols that the datasets document, so a validation report
// can state accuracy per activity as wearable validation studies do. Not here: metrics.
//
//   IEEE SPC 2015 train, TYPE01: rest 30 s -> 8 km/h 1 min -> 15 km/h 1 min -> 8 km/h 1 min ->
//                                15 km/h 1 min -> rest 30 s
//                        TYPE02: the same with 6 and 12 km/h
//   BAMI-1: rest 1 min -> walk 2 min (2.5 km/h) -> run 3 min (6 km/h) -> walk 2 min (3 km/h) ->
//           run 3 min (7 km/h) -> walk 2 min (2.5 km/h) -> rest 1 min
//   BAMI-2: rest 1 min -> walk 2 min (3–4 km/h) -> run 2 min (6–8 km/h) -> run holding the
//           treadmill bar 2 min -> walk 2 min -> walk holding the bar 2 min -> rest or walk 1 min
//           (its PROVENANCE.md; 720 s of protocol in 730 s recordings)
//   any other recording (SPC extra / test, BAMI windowed, BIDMC, synthetic): one segment "all".
// A window belongs to the segment containing its centre (start + 4 s); a centre at or past the
// protocol's end is in no segment (index -1: the protocol timing no longer says what happened).
#pragma once

#include <string>
#include <vector>

namespace ppgkd {

struct ActivitySegment {
  std::string activity;       // e.g. "rest", "run 8 km/h"
  double t0_s = 0, t1_s = 0;  // [t0, t1), seconds from the recording start
};

struct Protocol {
  std::string name;  // "spc2015 TYPE01", "spc2015 TYPE02", "bami1", "bami2", or the dataset name
  std::vector<ActivitySegment> segments;  // contiguous from 0 s; "all" spans [0, inf)
};

// The protocol of a recording from its dataset and name (Recording::dataset, Recording::name).
Protocol recording_protocol(const std::string& dataset, const std::string& recording_name);

// Index of the segment containing t_centre_s, or -1 when it lies at or past the end.
int segment_index(const Protocol& p, double t_centre_s);

// "3. run 15 km/h" (1-based position, so repeated activities stay apart).
std::string segment_label(const Protocol& p, int index);

}  // namespace ppgkd
